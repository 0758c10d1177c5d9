using System.Runtime.CompilerServices;

namespace Engine.Kernels;

// Row kernels: the innermost loop of an elementwise walk. A row has a length and one stride per
// operand; contiguous rows (stride 1) and broadcast scalars (stride 0) take the SIMD span paths
// of the op struct, anything else a scalar strided loop over the same op's scalar definition.

/// <summary>A row kernel with one input.</summary>
internal unsafe interface IRow2<TA, TY> where TA : unmanaged where TY : unmanaged
{
    static abstract void Row(TA* a, long sa, TY* y, long sy, long n);
}

/// <summary>A row kernel with two inputs.</summary>
internal unsafe interface IRow3<TA, TB, TY> where TA : unmanaged where TB : unmanaged where TY : unmanaged
{
    static abstract void Row(TA* a, long sa, TB* b, long sb, TY* y, long sy, long n);
}

internal static unsafe class RowChunks
{
    /// <summary>Spans hold at most int.MaxValue elements; rows are processed in chunks of this many.</summary>
    public const int Chunk = 1 << 30;
}

internal readonly unsafe struct UnaryRow<TOp, T> : IRow2<T, T> where TOp : IUnaryOp, IUnarySpanOp where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(T* a, long sa, T* y, long sy, long n)
    {
        if (sa == 1 && sy == 1)
        {
            for (long s = 0; s < n; s += RowChunks.Chunk)
            {
                int len = (int)Math.Min(RowChunks.Chunk, n - s);
                if (typeof(T) == typeof(float)) TOp.Apply(new ReadOnlySpan<float>(a + s, len), new Span<float>(y + s, len));
                else TOp.Apply(new ReadOnlySpan<double>(a + s, len), new Span<double>(y + s, len));
            }
            return;
        }
        if (typeof(T) == typeof(float))
        {
            float* pa = (float*)a, py = (float*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa]);
        }
        else
        {
            double* pa = (double*)a, py = (double*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa]);
        }
    }
}

internal readonly unsafe struct IntUnaryRow<TOp, T> : IRow2<T, T> where TOp : IIntegerUnaryOp where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(T* a, long sa, T* y, long sy, long n)
    {
        if (typeof(T) == typeof(int))
        {
            int* pa = (int*)a, py = (int*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa]);
        }
        else
        {
            long* pa = (long*)a, py = (long*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa]);
        }
    }
}

internal readonly unsafe struct BinaryRow<TOp, T> : IRow3<T, T, T> where TOp : IBinaryOp, IBinarySpanOp where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(T* a, long sa, T* b, long sb, T* y, long sy, long n)
    {
        if (sy == 1 && sa <= 1 && sb <= 1 && (sa | sb) != 0)
        {
            for (long s = 0; s < n; s += RowChunks.Chunk)
            {
                int len = (int)Math.Min(RowChunks.Chunk, n - s);
                if (typeof(T) == typeof(float))
                {
                    float* pa = (float*)a + s * sa, pb = (float*)b + s * sb;
                    var z = new Span<float>((float*)y + s, len);
                    if (sa == 1 && sb == 1) TOp.Apply(new ReadOnlySpan<float>(pa, len), new ReadOnlySpan<float>(pb, len), z);
                    else if (sa == 1) TOp.Apply(new ReadOnlySpan<float>(pa, len), *pb, z);
                    else TOp.Apply(*pa, new ReadOnlySpan<float>(pb, len), z);
                }
                else
                {
                    double* pa = (double*)a + s * sa, pb = (double*)b + s * sb;
                    var z = new Span<double>((double*)y + s, len);
                    if (sa == 1 && sb == 1) TOp.Apply(new ReadOnlySpan<double>(pa, len), new ReadOnlySpan<double>(pb, len), z);
                    else if (sa == 1) TOp.Apply(new ReadOnlySpan<double>(pa, len), *pb, z);
                    else TOp.Apply(*pa, new ReadOnlySpan<double>(pb, len), z);
                }
            }
            return;
        }
        if (typeof(T) == typeof(float))
        {
            float* pa = (float*)a, pb = (float*)b, py = (float*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa], pb[i * sb]);
        }
        else
        {
            double* pa = (double*)a, pb = (double*)b, py = (double*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa], pb[i * sb]);
        }
    }
}

internal readonly unsafe struct IntBinaryRow<TOp, T> : IRow3<T, T, T> where TOp : IIntegerBinaryOp where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(T* a, long sa, T* b, long sb, T* y, long sy, long n)
    {
        if (typeof(T) == typeof(int))
        {
            int* pa = (int*)a, pb = (int*)b, py = (int*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa], pb[i * sb]);
        }
        else
        {
            long* pa = (long*)a, pb = (long*)b, py = (long*)y;
            for (long i = 0; i < n; i++) py[i * sy] = TOp.Apply(pa[i * sa], pb[i * sb]);
        }
    }
}

internal readonly unsafe struct CompareRow<TOp, T> : IRow3<T, T, byte> where TOp : ICompareOp where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(T* a, long sa, T* b, long sb, byte* y, long sy, long n)
    {
        for (long i = 0; i < n; i++) y[i * sy] = Test(a[i * sa], b[i * sb]) ? (byte)1 : (byte)0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Test(T a, T b)
    {
        if (typeof(T) == typeof(float)) return TOp.Apply(Unsafe.As<T, float>(ref a), Unsafe.As<T, float>(ref b));
        if (typeof(T) == typeof(double)) return TOp.Apply(Unsafe.As<T, double>(ref a), Unsafe.As<T, double>(ref b));
        if (typeof(T) == typeof(int)) return TOp.Apply(Unsafe.As<T, int>(ref a), Unsafe.As<T, int>(ref b));
        if (typeof(T) == typeof(long)) return TOp.Apply(Unsafe.As<T, long>(ref a), Unsafe.As<T, long>(ref b));
        return TOp.Apply((int)Unsafe.As<T, byte>(ref a), Unsafe.As<T, byte>(ref b));
    }
}

/// <summary>Element conversion with PyTorch's rules: floats truncate toward zero into integers, anything non-zero is true.</summary>
internal readonly unsafe struct CastRow<TA, TY> : IRow2<TA, TY> where TA : unmanaged where TY : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(TA* a, long sa, TY* y, long sy, long n)
    {
        if (typeof(TA) == typeof(TY) && sa == 1 && sy == 1)
        {
            Buffer.MemoryCopy(a, y, n * sizeof(TY), n * sizeof(TY));
            return;
        }
        for (long i = 0; i < n; i++) y[i * sy] = Convert(a[i * sa]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TY Convert(TA v)
    {
        if (typeof(TA) == typeof(TY)) return Unsafe.As<TA, TY>(ref v);
        if (typeof(TA) == typeof(float) || typeof(TA) == typeof(double))
        {
            double d = typeof(TA) == typeof(float) ? Unsafe.As<TA, float>(ref v) : Unsafe.As<TA, double>(ref v);
            if (typeof(TY) == typeof(float)) { float f = (float)d; return Unsafe.As<float, TY>(ref f); }
            if (typeof(TY) == typeof(double)) return Unsafe.As<double, TY>(ref d);
            if (typeof(TY) == typeof(int)) { int r = (int)d; return Unsafe.As<int, TY>(ref r); }
            if (typeof(TY) == typeof(long)) { long r = (long)d; return Unsafe.As<long, TY>(ref r); }
            byte bb = d != 0 ? (byte)1 : (byte)0;
            return Unsafe.As<byte, TY>(ref bb);
        }
        long l = typeof(TA) == typeof(int) ? Unsafe.As<TA, int>(ref v)
               : typeof(TA) == typeof(long) ? Unsafe.As<TA, long>(ref v)
               : Unsafe.As<TA, byte>(ref v);
        if (typeof(TY) == typeof(float)) { float f = l; return Unsafe.As<float, TY>(ref f); }
        if (typeof(TY) == typeof(double)) { double d = l; return Unsafe.As<double, TY>(ref d); }
        if (typeof(TY) == typeof(int)) { int r = (int)l; return Unsafe.As<int, TY>(ref r); }
        if (typeof(TY) == typeof(long)) return Unsafe.As<long, TY>(ref l);
        byte b = l != 0 ? (byte)1 : (byte)0;
        return Unsafe.As<byte, TY>(ref b);
    }
}
