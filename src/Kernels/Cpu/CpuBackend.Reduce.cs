using System.Numerics;

namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    /// <summary>The reduced and kept dimensions of a reduction, each coalesced.</summary>
    private sealed class ReducePlan
    {
        public readonly int[] KeptSizes, RedSizes;
        public readonly long[] KeptX, KeptY, RedX;
        public readonly long Outputs, Count;

        public ReducePlan(in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
        {
            var reduced = new bool[x.Layout.Rank];
            foreach (int a in axes) reduced[a] = true;
            (KeptSizes, var kept) = Dims.Coalesce(x.Shape, [x.Layout.Strides, y.Layout.Strides], d => !reduced[d]);
            (RedSizes, var red) = Dims.Coalesce(x.Shape, [x.Layout.Strides], d => reduced[d]);
            KeptX = kept[0];
            KeptY = kept[1];
            RedX = red[0];
            Outputs = 1;
            foreach (int n in KeptSizes) Outputs *= n;
            Count = 1;
            foreach (int n in RedSizes) Count *= n;
            for (int d = 0; d < x.Layout.Rank; d++)
                if (x.Shape[d] == 0) { if (reduced[d]) Count = 0; else Outputs = 0; }
        }
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DType dtype, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
    {
        switch (dtype)
        {
            case DType.Float32: ReduceT<float>(op, x, axes, y); break;
            case DType.Float64: ReduceT<double>(op, x, axes, y); break;
            case DType.Int32: ReduceT<int>(op, x, axes, y); break;
            case DType.Int64: ReduceT<long>(op, x, axes, y); break;
            default: throw Unsupported("Reduce", dtype);
        }
    }

    private static void ReduceT<T>(ReduceOp op, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        switch (op)
        {
            case ReduceOp.Sum: Reduce<SumReducer<T>, T>(x, axes, y); break;
            case ReduceOp.Max: Reduce<MaxReducer<T>, T>(x, axes, y); break;
            case ReduceOp.Min: Reduce<MinReducer<T>, T>(x, axes, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    private static void Reduce<TR, T>(in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
        where TR : IReducer<T> where T : unmanaged
    {
        var plan = new ReducePlan(x, axes, y);
        if (plan.Outputs == 0) return;
        nint px = Addr<T>(x), py = Addr<T>(y);
        int nk = plan.KeptSizes.Length, nr = plan.RedSizes.Length;
        if (plan.Count == 0)
        {
            WorkerPool.Run(1, _ => ForOutputs(plan, 0, plan.Outputs, (xo, yo) => ((T*)py)[yo] = TR.Identity));
            return;
        }
        bool denseRows = nr > 0 && plan.RedX[nr - 1] == 1;
        if (!denseRows && nk > 0 && plan.KeptX[nk - 1] == 1 && plan.KeptY[nk - 1] == 1 && nr > 0)
        {
            ReduceOuter<TR, T>(plan, px, py);
            return;
        }
        if (plan.Outputs == 1 && nr == 1 && denseRows && plan.Count >= StridedLoop.ParallelThreshold)
        {
            // one long dense run: split it by its length (never by the thread count), then combine the partial
            // results in a fixed order
            int parts = Pieces.OverElements(plan.Count);
            var partial = new T[parts];
            long n = plan.Count;
            WorkerPool.Run(parts, p =>
            {
                long s = n * p / parts, e = n * (p + 1) / parts;
                partial[p] = e > s ? TR.Dense((T*)px + s, e - s) : TR.Identity;
            });
            T acc = partial[0];
            for (int p = 1; p < parts; p++) acc = TR.Combine(acc, partial[p]);
            *(T*)py = acc;
            return;
        }
        int threads = plan.Outputs * plan.Count >= StridedLoop.ParallelThreshold ? WorkerPool.Threads : 1;
        int chunks = (int)Math.Min(plan.Outputs, threads);
        if (nr == 1 && denseRows && nk == 1 && plan.KeptX[0] == plan.Count)
        {
            // the outputs' runs lie one after another (a mean over H·W per plane, over the last axis per row): a plain
            // loop over them, as ReduceOne would reduce each, without the per-output offset arithmetic and call
            long count = plan.Count, ky = plan.KeptY[0], outputs = plan.Outputs;
            WorkerPool.Run(chunks, c =>
            {
                for (long o = outputs * c / chunks; o < outputs * (c + 1) / chunks; o++)
                    ((T*)py)[o * ky] = TR.Dense((T*)px + o * count, count);
            });
            return;
        }
        WorkerPool.Run(chunks, c =>
        {
            long o0 = plan.Outputs * c / chunks, o1 = plan.Outputs * (c + 1) / chunks;
            ForOutputs(plan, o0, o1, (xo, yo) => ((T*)py)[yo] = ReduceOne<TR, T>(plan, (T*)px + xo));
        });
    }

    /// <summary>Visits outputs o0..o1 with the x and y offsets of each.</summary>
    private static void ForOutputs(ReducePlan plan, long o0, long o1, Action<long, long> visit)
    {
        int nk = plan.KeptSizes.Length;
        for (long o = o0; o < o1; o++)
            visit(Dims.OffsetOf(o, plan.KeptSizes, plan.KeptX, nk), Dims.OffsetOf(o, plan.KeptSizes, plan.KeptY, nk));
    }

    /// <summary>Reduces the elements behind one output: dense runs through SIMD, the rest element by element.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static T ReduceOne<TR, T>(ReducePlan plan, T* x) where TR : IReducer<T> where T : unmanaged
    {
        int nr = plan.RedSizes.Length;
        if (nr == 0) return *x;
        long inner = plan.RedSizes[nr - 1], stride = plan.RedX[nr - 1];
        long rows = plan.Count / inner;
        T acc = TR.Identity;
        bool first = true;
        for (long r = 0; r < rows; r++)
        {
            T* row = x + Dims.OffsetOf(r, plan.RedSizes, plan.RedX, nr - 1);
            T v;
            if (stride == 1) v = TR.Dense(row, inner);
            else
            {
                v = row[0];
                for (long i = 1; i < inner; i++) v = TR.Combine(v, row[i * stride]);
            }
            acc = first ? v : TR.Combine(acc, v);
            first = false;
        }
        return acc;
    }

    /// <summary>
    /// Reduction over outer axes with a dense kept innermost axis (a column sum such as a bias
    /// gradient): each output row accumulates whole input rows with SIMD.
    /// </summary>
    private static void ReduceOuter<TR, T>(ReducePlan plan, nint px, nint py) where TR : IReducer<T> where T : unmanaged
    {
        int nk = plan.KeptSizes.Length, nr = plan.RedSizes.Length;
        int len = plan.KeptSizes[nk - 1];
        long outerRows = plan.Outputs / len;
        const int Chunk = 4096;
        int chunksPerRow = (len + Chunk - 1) / Chunk;
        long tasks = outerRows * chunksPerRow;
        int parts = plan.Outputs * plan.Count >= StridedLoop.ParallelThreshold ? (int)Math.Min(tasks, WorkerPool.Threads * 4) : 1;
        WorkerPool.Run(parts, p =>
        {
            long t0 = tasks * p / parts, t1 = tasks * (p + 1) / parts;
            for (long t = t0; t < t1; t++)
            {
                long row = t / chunksPerRow;
                int start = (int)(t % chunksPerRow) * Chunk, n = Math.Min(Chunk, len - start);
                T* xrow = (T*)px + Dims.OffsetOf(row, plan.KeptSizes, plan.KeptX, nk - 1) + start;
                T* yrow = (T*)py + Dims.OffsetOf(row, plan.KeptSizes, plan.KeptY, nk - 1) + start;
                new ReadOnlySpan<T>(xrow, n).CopyTo(new Span<T>(yrow, n));
                for (long r = 1; r < plan.Count; r++)
                    TR.Accumulate(yrow, xrow + Dims.OffsetOf(r, plan.RedSizes, plan.RedX, nr), n);
            }
        });
    }

    /// <inheritdoc/>
    public void ArgReduce(ArgReduceOp op, DType dtype, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
    {
        bool max = op == ArgReduceOp.ArgMax;
        switch (dtype)
        {
            case DType.Float32: ArgReduceT<float>(max, x, axes, y); break;
            case DType.Float64: ArgReduceT<double>(max, x, axes, y); break;
            case DType.Int32: ArgReduceT<int>(max, x, axes, y); break;
            case DType.Int64: ArgReduceT<long>(max, x, axes, y); break;
            default: throw Unsupported(op.ToString(), dtype);
        }
    }

    private static void ArgReduceT<T>(bool max, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
        where T : unmanaged, INumber<T>
    {
        var plan = new ReducePlan(x, axes, y);
        if (plan.Outputs == 0) return;
        nint px = Addr<T>(x), py = Addr<long>(y);
        int nr = plan.RedSizes.Length;
        int chunks = plan.Outputs * plan.Count >= StridedLoop.ParallelThreshold ? (int)Math.Min(plan.Outputs, WorkerPool.Threads) : 1;
        WorkerPool.Run(chunks, c =>
        {
            long o0 = plan.Outputs * c / chunks, o1 = plan.Outputs * (c + 1) / chunks;
            ForOutputs(plan, o0, o1, (xo, yo) =>
            {
                T* p = (T*)px + xo;
                T best = p[0];
                long bestAt = 0;
                for (long i = 1; i < plan.Count && !T.IsNaN(best); i++)
                {
                    T v = p[Dims.OffsetOf(i, plan.RedSizes, plan.RedX, nr)];
                    if (T.IsNaN(v) || (max ? v > best : v < best)) { best = v; bestAt = i; }
                }
                ((long*)py)[yo] = bestAt;
            });
        });
    }
}
