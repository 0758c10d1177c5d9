using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>How one reduction combines values; dense runs go through SIMD.</summary>
internal unsafe interface IReducer<T> where T : unmanaged
{
    static abstract T Identity { get; }
    static abstract T Combine(T a, T b);
    /// <summary>Reduces a dense run of n ≥ 1 elements.</summary>
    static abstract T Dense(T* p, long n);
    /// <summary>acc[i] = Combine(acc[i], x[i]) over dense runs.</summary>
    static abstract void Accumulate(T* acc, T* x, int n);
}

internal readonly unsafe struct SumReducer<T> : IReducer<T> where T : unmanaged, INumber<T>
{
    public static T Identity => T.Zero;
    public static T Combine(T a, T b) => a + b;
    public static T Dense(T* p, long n)
    {
        if (typeof(T) == typeof(float)) { float s = (float)SimdSum.Sum((float*)p, n); return Unsafe.As<float, T>(ref s); }
        if (typeof(T) == typeof(double)) { double s = SimdSum.Sum((double*)p, n); return Unsafe.As<double, T>(ref s); }
        T acc = T.Zero;
        for (long i = 0; i < n; i++) acc += p[i];
        return acc;
    }
    public static void Accumulate(T* acc, T* x, int n) =>
        TensorPrimitives.Add(new ReadOnlySpan<T>(acc, n), new ReadOnlySpan<T>(x, n), new Span<T>(acc, n));
}

internal readonly unsafe struct MaxReducer<T> : IReducer<T> where T : unmanaged, INumber<T>, IMinMaxValue<T>
{
    public static T Identity => T.MinValue;
    public static T Combine(T a, T b) => T.Max(a, b);
    public static T Dense(T* p, long n)
    {
        T acc = p[0];
        for (long s = 0; s < n; s += RowChunks.Chunk)
            acc = T.Max(acc, TensorPrimitives.Max(new ReadOnlySpan<T>(p + s, (int)Math.Min(RowChunks.Chunk, n - s))));
        return acc;
    }
    public static void Accumulate(T* acc, T* x, int n) =>
        TensorPrimitives.Max(new ReadOnlySpan<T>(acc, n), new ReadOnlySpan<T>(x, n), new Span<T>(acc, n));
}

internal readonly unsafe struct MinReducer<T> : IReducer<T> where T : unmanaged, INumber<T>, IMinMaxValue<T>
{
    public static T Identity => T.MaxValue;
    public static T Combine(T a, T b) => T.Min(a, b);
    public static T Dense(T* p, long n)
    {
        T acc = p[0];
        for (long s = 0; s < n; s += RowChunks.Chunk)
            acc = T.Min(acc, TensorPrimitives.Min(new ReadOnlySpan<T>(p + s, (int)Math.Min(RowChunks.Chunk, n - s))));
        return acc;
    }
    public static void Accumulate(T* acc, T* x, int n) =>
        TensorPrimitives.Min(new ReadOnlySpan<T>(acc, n), new ReadOnlySpan<T>(x, n), new Span<T>(acc, n));
}

/// <summary>
/// Dense sums with eight independent vector accumulators (the adds of one accumulator form a
/// dependency chain; eight chains keep both FP adders busy), in blocks whose partial sums are
/// added in float64, so a float32 sum of millions of values keeps about seven significant digits.
/// </summary>
internal static unsafe class SimdSum
{
    private const int Block = 1 << 14;

    public static double Sum(float* p, long n)
    {
        double total = 0;
        for (long s = 0; s < n; s += Block)
            total += SumBlock(p + s, (int)Math.Min(Block, n - s));
        return total;
    }

    public static double Sum(double* p, long n)
    {
        double total = 0;
        for (long s = 0; s < n; s += Block)
            total += SumBlock(p + s, (int)Math.Min(Block, n - s));
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumBlock(float* p, int n)
    {
        int i = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 64)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default,
                             a4 = default, a5 = default, a6 = default, a7 = default;
            for (; i <= n - 64; i += 64)
            {
                a0 += Vector256.Load(p + i);
                a1 += Vector256.Load(p + i + 8);
                a2 += Vector256.Load(p + i + 16);
                a3 += Vector256.Load(p + i + 24);
                a4 += Vector256.Load(p + i + 32);
                a5 += Vector256.Load(p + i + 40);
                a6 += Vector256.Load(p + i + 48);
                a7 += Vector256.Load(p + i + 56);
            }
            for (; i <= n - 8; i += 8) a0 += Vector256.Load(p + i);
            s = Vector256.Sum((a0 + a1) + (a2 + a3) + ((a4 + a5) + (a6 + a7)));
        }
        for (; i < n; i++) s += p[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SumBlock(double* p, int n)
    {
        int i = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default,
                              a4 = default, a5 = default, a6 = default, a7 = default;
            for (; i <= n - 32; i += 32)
            {
                a0 += Vector256.Load(p + i);
                a1 += Vector256.Load(p + i + 4);
                a2 += Vector256.Load(p + i + 8);
                a3 += Vector256.Load(p + i + 12);
                a4 += Vector256.Load(p + i + 16);
                a5 += Vector256.Load(p + i + 20);
                a6 += Vector256.Load(p + i + 24);
                a7 += Vector256.Load(p + i + 28);
            }
            for (; i <= n - 4; i += 4) a0 += Vector256.Load(p + i);
            s = Vector256.Sum((a0 + a1) + (a2 + a3) + ((a4 + a5) + (a6 + a7)));
        }
        for (; i < n; i++) s += p[i];
        return s;
    }
}
