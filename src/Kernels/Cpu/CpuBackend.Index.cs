using System.Numerics;

namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    private static long ReadIndex(byte* p, DType t, long i) => t == DType.Int64 ? ((long*)p)[i] : ((int*)p)[i];

    private static long CheckedIndex(string op, int[] shape, int axis, long v)
    {
        if ((ulong)v >= (ulong)shape[axis])
            throw Errors.IndexError(op, shape, $"index {v} is out of range for axis {axis} of size {shape[axis]}");
        return v;
    }

    /// <inheritdoc/>
    public void IndexSelect(DType dtype, in BufferView x, int axis, DType indexType, in BufferView index, in BufferView y)
    {
        switch (dtype.SizeOf())
        {
            case 1: IndexSelectT<byte>(x, axis, indexType, index, y); break;
            case 4: IndexSelectT<int>(x, axis, indexType, index, y); break;
            case 8: IndexSelectT<long>(x, axis, indexType, index, y); break;
            default: throw Unsupported("IndexSelect", dtype);
        }
    }

    private static void IndexSelectT<T>(in BufferView x, int axis, DType it, in BufferView index, in BufferView y) where T : unmanaged
    {
        int count = index.Shape[0];
        if (count == 0 || y.Layout.Numel == 0) return;
        byte* pi = (byte*)((NativeBuffer)index.Buffer).Pointer + index.Layout.Offset * it.SizeOf();
        long si = index.Layout.Strides[0];
        var rows = new long[count];
        for (int j = 0; j < count; j++) rows[j] = CheckedIndex("IndexSelect", x.Shape, axis, ReadIndex(pi, it, j * si));
        var (sizes, st) = Dims.Coalesce(y.Shape, [x.Layout.Strides, y.Layout.Strides], d => d != axis);
        long xa = x.Layout.Strides[axis], ya = y.Layout.Strides[axis];
        int rank = sizes.Length;
        long inner = rank > 0 ? sizes[rank - 1] : 1, sxi = rank > 0 ? st[0][rank - 1] : 0, syi = rank > 0 ? st[1][rank - 1] : 0;
        long outer = y.Layout.Numel / count / inner;
        nint px = Addr<T>(x), py = Addr<T>(y);
        int parts = y.Layout.Numel >= StridedLoop.ParallelThreshold ? Math.Min(count, WorkerPool.Threads) : 1;
        WorkerPool.Run(parts, p =>
        {
            for (int j = count * p / parts; j < count * (p + 1) / parts; j++)
                for (long o = 0; o < outer; o++)
                {
                    T* src = (T*)px + rows[j] * xa + Dims.OffsetOf(o, sizes, st[0], rank - 1);
                    T* dst = (T*)py + j * ya + Dims.OffsetOf(o, sizes, st[1], rank - 1);
                    if (sxi == 1 && syi == 1) new ReadOnlySpan<T>(src, (int)inner).CopyTo(new Span<T>(dst, (int)inner));
                    else for (long i = 0; i < inner; i++) dst[i * syi] = src[i * sxi];
                }
        });
    }

    /// <summary>Visits every element of the index tensor with its offsets in index, x-without-axis and other.</summary>
    private static void ForIndexElements(in BufferView index, long[] xStrides, long[] oStrides, int axis, Action<long, long, long> visit)
    {
        int[] shape = index.Shape;
        int rank = shape.Length;
        long n = index.Layout.Numel;
        if (n == 0) return;
        var idx = new int[rank];
        long io = 0, xo = 0, oo = 0;
        for (long e = 0; e < n; e++)
        {
            visit(io, xo, oo);
            for (int d = rank - 1; d >= 0; d--)
            {
                long xs = d == axis ? 0 : xStrides[d];
                if (++idx[d] < shape[d])
                {
                    io += index.Layout.Strides[d]; xo += xs; oo += oStrides[d];
                    break;
                }
                idx[d] = 0;
                io -= index.Layout.Strides[d] * (shape[d] - 1);
                xo -= xs * (shape[d] - 1);
                oo -= oStrides[d] * (shape[d] - 1);
            }
        }
    }

    /// <inheritdoc/>
    public void Gather(DType dtype, in BufferView x, int axis, DType indexType, in BufferView index, in BufferView y)
    {
        switch (dtype.SizeOf())
        {
            case 1: GatherT<byte>(x, axis, indexType, index, y); break;
            case 4: GatherT<int>(x, axis, indexType, index, y); break;
            case 8: GatherT<long>(x, axis, indexType, index, y); break;
            default: throw Unsupported("Gather", dtype);
        }
    }

    private static void GatherT<T>(in BufferView x, int axis, DType it, in BufferView index, in BufferView y) where T : unmanaged
    {
        byte* pi = (byte*)((NativeBuffer)index.Buffer).Pointer + index.Layout.Offset * it.SizeOf();
        T* px = Ptr<T>(x), py = Ptr<T>(y);
        long xa = x.Layout.Strides[axis];
        int[] xShape = x.Shape;
        ForIndexElements(index, x.Layout.Strides, y.Layout.Strides, axis, (io, xo, yo) =>
            py[yo] = px[xo + CheckedIndex("Gather", xShape, axis, ReadIndex(pi, it, io)) * xa]);
    }

    /// <inheritdoc/>
    public void ScatterAdd(DType dtype, in BufferView src, int axis, DType indexType, in BufferView index, in BufferView y)
    {
        switch (dtype)
        {
            case DType.Float32: ScatterAddT<float>(src, axis, indexType, index, y); break;
            case DType.Float64: ScatterAddT<double>(src, axis, indexType, index, y); break;
            case DType.Int32: ScatterAddT<int>(src, axis, indexType, index, y); break;
            case DType.Int64: ScatterAddT<long>(src, axis, indexType, index, y); break;
            default: throw Unsupported("ScatterAdd", dtype);
        }
    }

    private static void ScatterAddT<T>(in BufferView src, int axis, DType it, in BufferView index, in BufferView y)
        where T : unmanaged, INumber<T>
    {
        byte* pi = (byte*)((NativeBuffer)index.Buffer).Pointer + index.Layout.Offset * it.SizeOf();
        T* ps = Ptr<T>(src), py = Ptr<T>(y);
        long ya = y.Layout.Strides[axis];
        int[] yShape = y.Shape;
        // validate every index before writing anything, so a bad index leaves y untouched
        ForIndexElements(index, y.Layout.Strides, src.Layout.Strides, axis, (io, _, _) =>
            CheckedIndex("ScatterAdd", yShape, axis, ReadIndex(pi, it, io)));
        ForIndexElements(index, y.Layout.Strides, src.Layout.Strides, axis, (io, yo, so) =>
            py[yo + ReadIndex(pi, it, io) * ya] += ps[so]);
    }

    /// <inheritdoc/>
    public void Random(RandomDistribution distribution, DType dtype, ulong seed, ulong offset, double a, double b, in BufferView y)
    {
        switch (dtype)
        {
            case DType.Float32: RandomT<float>(distribution, seed, offset, a, b, y); break;
            case DType.Float64: RandomT<double>(distribution, seed, offset, a, b, y); break;
            case DType.Int32: RandomT<int>(distribution, seed, offset, a, b, y); break;
            case DType.Int64: RandomT<long>(distribution, seed, offset, a, b, y); break;
            default: throw Unsupported("Random", dtype);
        }
    }

    private static void RandomT<T>(RandomDistribution dist, ulong seed, ulong offset, double a, double b, in BufferView y)
        where T : unmanaged, INumber<T>
    {
        long n = y.Layout.Numel;
        nint py = Addr<T>(y);
        int parts = n >= StridedLoop.ParallelThreshold / 8 ? WorkerPool.Threads : 1;
        long low = (long)a, range = (long)b - (long)a;
        WorkerPool.Run(parts, p =>
        {
            T* dst = (T*)py;
            for (long i = n * p / parts; i < n * (p + 1) / parts; i++)
            {
                var (w0, w1, w2, w3) = Philox.Block(seed, offset + (ulong)i);
                dst[i] = dist switch
                {
                    RandomDistribution.Uniform => Uniform<T>(a, b, w0, w1),
                    RandomDistribution.Normal => T.CreateTruncating(a + b * Philox.Normal(w0, w1, w2, w3)),
                    _ => T.CreateTruncating(low + (long)((((ulong)w0 << 32) | w1) % (ulong)range)),
                };
            }
        });
    }

    private static T Uniform<T>(double a, double b, uint w0, uint w1) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            float v = (float)(a + (b - a) * Philox.UniformFloat(w0));
            if (v >= (float)b) v = MathF.BitDecrement((float)b);
            return T.CreateTruncating(v);
        }
        double d = a + (b - a) * Philox.UniformDouble(w0, w1);
        if (d >= b) d = Math.BitDecrement(b);
        return T.CreateTruncating(d);
    }
}
