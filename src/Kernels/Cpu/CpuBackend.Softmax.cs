using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(DType dtype, in BufferView x, int axis, bool log, in BufferView y)
    {
        if (dtype == DType.Float32) SoftmaxT<float>(x, axis, log, y);
        else if (dtype == DType.Float64) SoftmaxT<double>(x, axis, log, y);
        else throw Unsupported(log ? "LogSoftmax" : "Softmax", dtype);
    }

    /// <summary>
    /// Row by row along the axis: m = max x; e = exp(x - m); softmax = e / Σe, or
    /// log-softmax = x - m - ln Σe. Subtracting the maximum keeps exp from overflowing.
    /// Strided rows are gathered into a dense scratch row first.
    /// </summary>
    private static void SoftmaxT<T>(in BufferView x, int axis, bool log, in BufferView y)
        where T : unmanaged, IExponentialFunctions<T>, ILogarithmicFunctions<T>, IRootFunctions<T>, IMinMaxValue<T>, INumber<T>
    {
        int n = x.Shape[axis];
        long rows = x.Layout.Numel / Math.Max(n, 1);
        if (n == 0 || rows == 0) return;
        var (sizes, st) = Dims.Coalesce(x.Shape, [x.Layout.Strides, y.Layout.Strides], d => d != axis);
        long sx = x.Layout.Strides[axis], sy = y.Layout.Strides[axis];
        nint px = Addr<T>(x), py = Addr<T>(y);
        int parts = rows * n >= StridedLoop.ParallelThreshold / 8 ? (int)Math.Min(rows, WorkerPool.Threads * 4) : 1;
        WorkerPool.Run(parts, p =>
        {
            long r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
            var row = new T[n];
            var tmp = new T[n];
            for (long r = r0; r < r1; r++)
            {
                T* xr = (T*)px + Dims.OffsetOf(r, sizes, st[0], sizes.Length);
                T* yr = (T*)py + Dims.OffsetOf(r, sizes, st[1], sizes.Length);
                if (sx == 1 && sy == 1) SoftmaxRow(new ReadOnlySpan<T>(xr, n), new Span<T>(yr, n), tmp, log);
                else
                {
                    for (int i = 0; i < n; i++) row[i] = xr[i * sx];
                    SoftmaxRow<T>(row, row, tmp, log);
                    for (int i = 0; i < n; i++) yr[i * sy] = row[i];
                }
            }
        });
    }

    private static void SoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, Span<T> tmp, bool log)
        where T : unmanaged, IExponentialFunctions<T>, ILogarithmicFunctions<T>, IRootFunctions<T>, IMinMaxValue<T>, INumber<T>
    {
        T m = TensorPrimitives.Max(x);
        if (T.IsInfinity(m) && m < T.Zero) m = T.Zero;   // a row of -∞ gives NaN through 0/0 below, like PyTorch
        if (log)
        {
            // y = (x - m) - ln Σ e^(x - m); subtracting m first keeps the small differences exact
            T lse = T.Log(ExpShiftedSum(x, m, tmp));
            TensorPrimitives.Subtract(x, m, y);
            TensorPrimitives.Subtract(y, lse, y);
            return;
        }
        // y = e^(x - m) / Σ e^(x - m)
        T s = ExpShiftedSum(x, m, y);
        TensorPrimitives.Multiply(y, T.One / s, y);
    }

    /// <summary>e[i] = exp(x[i] - m) and returns Σ e, in one fused vector pass.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static T ExpShiftedSum<T>(ReadOnlySpan<T> x, T m, Span<T> e)
        where T : unmanaged, IExponentialFunctions<T>, INumber<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            var vm = Vector256.Create(m);
            var acc = Vector256<T>.Zero;
            ref T xr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref T er = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(e);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Exp(Vector256.LoadUnsafe(ref xr, (nuint)i) - vm);
                v.StoreUnsafe(ref er, (nuint)i);
                acc += v;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            e[i] = T.Exp(x[i] - m);
            sum += e[i];
        }
        return sum;
    }

    private static Vector256<T> Exp<T>(Vector256<T> v)
    {
        if (typeof(T) == typeof(float)) return Simd.Exp(v.AsSingle()).As<float, T>();
        return Vector256.Exp(v.AsDouble()).As<double, T>();
    }
}
