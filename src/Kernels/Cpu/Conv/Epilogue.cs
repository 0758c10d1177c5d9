using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>
/// A convolution's epilogue on the CPU (<see cref="ConvEpilogue"/>): y = max((y + bias[k]) + residual, 0). <see cref="DirectConv"/>
/// applies <see cref="Row"/> to each channel's run of pixels just stored (in L1); <see cref="DirectBatchConv"/> applies <see cref="Value"/> to each output
/// it scatters; the other algorithms run <see cref="Apply"/> over the output
/// planes after their product: <see cref="Row"/> on each plane, one pass for bias, residual and ReLU together (a library call per
/// operation and plane cost more than the arithmetic on small maps: 0.2 ms for the 32 × 512 planes of 2 × 2 of ResNet18's last stage). Either way y + bias rounds once and ReLU is
/// max(·, 0), as the separate ops compute them.
/// </summary>
internal static unsafe class Epilogue
{
    /// <summary>(v + bias[k]) + *residual (each where given), then max(·, 0) when <paramref name="relu"/>: one output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Value<T>(T v, T* bias, int k, T* residual, bool relu) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            float f = Unsafe.As<T, float>(ref v);
            if (bias != null) f += ((float*)bias)[k];
            if (residual != null) f += *(float*)residual;
            if (relu) f = MathF.Max(f, 0f);
            return Unsafe.As<float, T>(ref f);
        }
        double d = Unsafe.As<T, double>(ref v);
        if (bias != null) d += ((double*)bias)[k];
        if (residual != null) d += *(double*)residual;
        if (relu) d = Math.Max(d, 0.0);
        return Unsafe.As<double, T>(ref d);
    }

    /// <summary>The epilogue over every [OH·OW] output plane of y, planes spread over threads.</summary>
    public static void Apply<T>(Conv2dGeometry g, T* y, T* bias, T* residual, bool relu) where T : unmanaged
    {
        if (bias == null && !relu && residual == null) return;
        int P = g.OH * g.OW, planes = g.N * g.K;
        nint py = (nint)y, pb = (nint)bias, pr = (nint)residual;
        int parts = (long)planes * P >= StridedLoop.ParallelThreshold ? Math.Min(planes, WorkerPool.Threads) : 1;
        WorkerPool.Run(parts, part =>
        {
            for (int plane = planes * part / parts; plane < planes * (part + 1) / parts; plane++)
            {
                long at = (long)plane * P;
                Row((T*)py + at, P, (T*)pb, plane % g.K, pr == 0 ? null : (T*)pr + at, relu);
            }
        });
    }

    /// <summary>
    /// The epilogue on <paramref name="length"/> contiguous outputs of channel <paramref name="k"/> (and the residual at the
    /// same places), in one vector pass: ((y + bias) + residual), then y where y &gt; 0 or NaN, else +0 (max(y, 0) as ReLU computes it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<T>(T* y, int length, T* bias, int k, T* residual, bool relu) where T : unmanaged
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var b = bias == null ? Vector256<T>.Zero : Vector256.Create(bias[k]);
            for (; i + Vector256<T>.Count <= length; i += Vector256<T>.Count)
            {
                var v = Vector256.Load(y + i);
                if (bias != null) v += b;
                if (residual != null) v += Vector256.Load(residual + i);
                if (relu) v = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<T>.Zero) | ~Vector256.Equals(v, v), v, Vector256<T>.Zero);
                v.Store(y + i);
            }
            // a run of 4 to 7 floats (the planes of 2 × 2 maps) in one more step
            if (i + Vector128<T>.Count <= length)
            {
                var v = Vector128.Load(y + i);
                if (bias != null) v += Vector128.Create(bias[k]);
                if (residual != null) v += Vector128.Load(residual + i);
                if (relu) v = Vector128.ConditionalSelect(Vector128.GreaterThan(v, Vector128<T>.Zero) | ~Vector128.Equals(v, v), v, Vector128<T>.Zero);
                v.Store(y + i);
                i += Vector128<T>.Count;
            }
        }
        for (; i < length; i++) y[i] = Value(y[i], bias, k, residual == null ? null : residual + i, relu);
    }
}
