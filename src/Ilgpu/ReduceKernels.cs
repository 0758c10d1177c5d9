using System.Numerics;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// Reductions: one group per output. Each thread folds a strided share of the reduced elements,
/// then the group combines the partial results as a tree in shared memory, always pairing the
/// same slots, so a result does not depend on timing (no floating-point atomics anywhere).
/// </summary>
public static class ReduceKernels
{
    /// <summary>The largest group size the reduction kernels use (their shared arrays' length).</summary>
    public const int MaxGroup = 256;

    private static T Combine<T>(int op, T a, T b) where T : unmanaged, INumber<T>
    {
        if (op == 0) return a + b;
        // max / min propagate NaN: a NaN operand wins
        if (T.IsNaN(a)) return a;
        if (T.IsNaN(b)) return b;
        return op == 1 ? (a > b ? a : b) : (b > a ? a : b);
    }

    /// <summary>y[o] = fold over the reduced elements of output o; op 0 sum, 1 max, 2 min.</summary>
    public static void Reduce<T>(ArrayView<T> x, ArrayView<T> y, Shape6 kept, Strides6 keptX, Strides6 keptY,
        Shape6 red, Strides6 redX, long count, int op, T identity) where T : unmanaged, INumber<T>
    {
        var shared = SharedMemory.Allocate<T>(MaxGroup);
        int tid = Group.IdxX, size = Group.DimX;
        long o = Grid.IdxX;
        long xo = Strided.At(o, kept, keptX);
        T acc = identity;
        for (long i = tid; i < count; i += size)
            acc = Combine<T>(op, acc, x[xo + Strided.At(i, red, redX)]);
        shared[tid] = acc;
        Group.Barrier();
        for (int s = size / 2; s > 0; s /= 2)
        {
            if (tid < s) shared[tid] = Combine<T>(op, shared[tid], shared[tid + s]);
            Group.Barrier();
        }
        if (tid == 0) y[Strided.At(o, kept, keptY)] = shared[0];
    }

    // (value, index) pairs: index -1 is "none yet"; NaN is the extreme; ties go to the first index
    private static bool Prefer<T>(int isMax, T va, long ia, T vb, long ib) where T : unmanaged, INumber<T>
    {
        if (ib < 0) return true;
        if (ia < 0) return false;
        bool na = T.IsNaN(va), nb = T.IsNaN(vb);
        if (na || nb) return na && (!nb || ia < ib);
        bool better = isMax != 0 ? va > vb : vb > va;
        bool worse = isMax != 0 ? vb > va : va > vb;
        return better || (!worse && ia < ib);
    }

    /// <summary>y[o] = the row-major index, among the reduced elements of output o, of the first extreme.</summary>
    public static void ArgReduce<T>(ArrayView<T> x, ArrayView<long> y, Shape6 kept, Strides6 keptX, Strides6 keptY,
        Shape6 red, Strides6 redX, long count, int isMax) where T : unmanaged, INumber<T>
    {
        var values = SharedMemory.Allocate<T>(MaxGroup);
        var indices = SharedMemory.Allocate<long>(MaxGroup);
        int tid = Group.IdxX, size = Group.DimX;
        long o = Grid.IdxX;
        long xo = Strided.At(o, kept, keptX);
        T best = default;
        long at = -1;
        for (long i = tid; i < count; i += size)
        {
            T v = x[xo + Strided.At(i, red, redX)];
            if (Prefer<T>(isMax, v, i, best, at)) { best = v; at = i; }
        }
        values[tid] = best;
        indices[tid] = at;
        Group.Barrier();
        for (int s = size / 2; s > 0; s /= 2)
        {
            if (tid < s && !Prefer<T>(isMax, values[tid], indices[tid], values[tid + s], indices[tid + s]))
            {
                values[tid] = values[tid + s];
                indices[tid] = indices[tid + s];
            }
            Group.Barrier();
        }
        if (tid == 0) y[Strided.At(o, kept, keptY)] = indices[0] < 0 ? 0 : indices[0];
    }

    /// <summary>Softmax or log-softmax of one row per group: max, Σ exp(x − max), then the outputs.</summary>
    public static void Softmax<T>(ArrayView<T> x, ArrayView<T> y, Shape6 rows, Strides6 rowX, Strides6 rowY,
        int length, long axisX, long axisY, int log, T negInf) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shared = SharedMemory.Allocate<T>(MaxGroup);
        int tid = Group.IdxX, size = Group.DimX;
        long o = Grid.IdxX;
        long xo = Strided.At(o, rows, rowX), yo = Strided.At(o, rows, rowY);
        T m = negInf;
        for (int i = tid; i < length; i += size) m = Combine<T>(1, m, x[xo + i * axisX]);
        shared[tid] = m;
        Group.Barrier();
        for (int s = size / 2; s > 0; s /= 2)
        {
            if (tid < s) shared[tid] = Combine<T>(1, shared[tid], shared[tid + s]);
            Group.Barrier();
        }
        T max = shared[0];
        Group.Barrier();
        T sum = T.Zero;
        for (int i = tid; i < length; i += size) sum += T.Exp(x[xo + i * axisX] - max);
        shared[tid] = sum;
        Group.Barrier();
        for (int s = size / 2; s > 0; s /= 2)
        {
            if (tid < s) shared[tid] += shared[tid + s];
            Group.Barrier();
        }
        T total = shared[0];
        T logTotal = T.Log(total);
        for (int i = tid; i < length; i += size)
        {
            T shifted = x[xo + i * axisX] - max;
            y[yo + i * axisY] = log != 0 ? shifted - logTotal : T.Exp(shifted) / total;
        }
    }
}
