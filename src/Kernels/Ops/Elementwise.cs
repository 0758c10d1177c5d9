using System.Runtime.Intrinsics;

namespace Engine.Kernels;

// Every elementwise op is one struct, generic over the element type T: Mul<T> is a * b for whatever T its
// constraint admits (INumber<T>: float, double, int, long; IFloatingPointIeee754<T>: float and double), and that
// constraint is the only place saying which dtypes the op takes. The scalar Apply is the definition: the ILGPU
// kernels call it, and the CPU calls it for strided elements. The span members are the CPU's contiguous fast
// path (generic TensorPrimitives, or our own vectors) and compute the same function.
//
// A backend runs an op through a runner, a struct holding its buffers with one generic method Run<TOp, T>. The
// op tables (BinaryOps.Run, UnaryOps.Run, CompareOps.Run) turn an op enum and a dtype into that call, through
// the helpers below: the one place a DType becomes a T.

/// <summary>y = f(x) on elements of type <typeparamref name="T"/>.</summary>
internal interface IUnaryOp<T> where T : unmanaged
{
    /// <summary>The definition, for one element.</summary>
    static abstract T Apply(T x);

    /// <summary>y[i] = f(x[i]) over contiguous spans (CPU).</summary>
    static abstract void Apply(ReadOnlySpan<T> x, Span<T> y);
}

/// <summary>z = f(a, b) on elements of type <typeparamref name="T"/>.</summary>
internal interface IBinaryOp<T> where T : unmanaged
{
    /// <summary>The definition, for one pair of elements.</summary>
    static abstract T Apply(T a, T b);

    /// <summary>z[i] = f(a[i], b[i]) (CPU).</summary>
    static abstract void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z);

    /// <summary>z[i] = f(a[i], b): b broadcast (CPU).</summary>
    static abstract void Apply(ReadOnlySpan<T> a, T b, Span<T> z);

    /// <summary>z[i] = f(a, b[i]): a broadcast (CPU).</summary>
    static abstract void Apply(T a, ReadOnlySpan<T> b, Span<T> z);
}

/// <summary>A predicate on pairs of elements of type <typeparamref name="T"/>; results are stored as Bool (0 or 1).</summary>
internal interface ICompareOp<T> where T : unmanaged
{
    /// <summary>The definition, for one pair of elements.</summary>
    static abstract bool Apply(T a, T b);

    /// <summary>All-ones lanes where the predicate holds (CPU).</summary>
    static abstract Vector256<T> Apply(Vector256<T> a, Vector256<T> b);
}

/// <summary>Runs one unary op at one element type on a backend's buffers.</summary>
internal interface IUnaryRunner
{
    /// <summary>Runs <typeparamref name="TOp"/>; <paramref name="cost"/> is its price per element relative to an add.</summary>
    void Run<TOp, T>(long cost) where TOp : struct, IUnaryOp<T> where T : unmanaged;
}

/// <summary>Runs one binary op at one element type on a backend's buffers.</summary>
internal interface IBinaryRunner
{
    /// <summary>Runs <typeparamref name="TOp"/>; <paramref name="cost"/> is its price per element relative to an add.</summary>
    void Run<TOp, T>(long cost) where TOp : struct, IBinaryOp<T> where T : unmanaged;
}

/// <summary>Runs one comparison at one element type on a backend's buffers.</summary>
internal interface ICompareRunner
{
    /// <summary>Runs <typeparamref name="TOp"/>.</summary>
    void Run<TOp, T>() where TOp : struct, ICompareOp<T> where T : unmanaged;
}

/// <summary>
/// DType → T for the op tables: each helper takes an op's instantiations for the dtypes it serves and runs the one
/// dtype names, or returns false when the op does not take that dtype.
/// </summary>
internal static class DTypeDispatch
{
    public static bool Floats<TF, TD, R>(DType t, R r, long cost)
        where TF : struct, IUnaryOp<float> where TD : struct, IUnaryOp<double> where R : IUnaryRunner
    {
        if (t == DType.Float32) r.Run<TF, float>(cost);
        else if (t == DType.Float64) r.Run<TD, double>(cost);
        else return false;
        return true;
    }

    public static bool Numbers<TF, TD, TI, TL, R>(DType t, R r, long cost)
        where TF : struct, IUnaryOp<float> where TD : struct, IUnaryOp<double> where TI : struct, IUnaryOp<int> where TL : struct, IUnaryOp<long>
        where R : IUnaryRunner
    {
        if (t == DType.Int32) r.Run<TI, int>(cost);
        else if (t == DType.Int64) r.Run<TL, long>(cost);
        else return Floats<TF, TD, R>(t, r, cost);
        return true;
    }

    public static bool BinaryFloats<TF, TD, R>(DType t, R r, long cost)
        where TF : struct, IBinaryOp<float> where TD : struct, IBinaryOp<double> where R : IBinaryRunner
    {
        if (t == DType.Float32) r.Run<TF, float>(cost);
        else if (t == DType.Float64) r.Run<TD, double>(cost);
        else return false;
        return true;
    }

    public static bool BinaryNumbers<TF, TD, TI, TL, R>(DType t, R r, long cost)
        where TF : struct, IBinaryOp<float> where TD : struct, IBinaryOp<double> where TI : struct, IBinaryOp<int> where TL : struct, IBinaryOp<long>
        where R : IBinaryRunner
    {
        if (t == DType.Int32) r.Run<TI, int>(1);
        else if (t == DType.Int64) r.Run<TL, long>(1);
        else return BinaryFloats<TF, TD, R>(t, r, cost);
        return true;
    }

    /// <summary>Every dtype; Bool (as its bytes, 0 or 1) only when <paramref name="onBool"/>.</summary>
    public static bool Compare<TF, TD, TI, TL, TB, R>(DType t, R r, bool onBool)
        where TF : struct, ICompareOp<float> where TD : struct, ICompareOp<double> where TI : struct, ICompareOp<int> where TL : struct, ICompareOp<long>
        where TB : struct, ICompareOp<byte> where R : ICompareRunner
    {
        switch (t)
        {
            case DType.Float32: r.Run<TF, float>(); return true;
            case DType.Float64: r.Run<TD, double>(); return true;
            case DType.Int32: r.Run<TI, int>(); return true;
            case DType.Int64: r.Run<TL, long>(); return true;
            case DType.Bool when onBool: r.Run<TB, byte>(); return true;
            default: return false;
        }
    }
}

/// <summary>A runner that runs nothing: the op tables answer "does this op take this dtype?" with it.</summary>
internal readonly struct NoRun : IUnaryRunner, IBinaryRunner, ICompareRunner
{
    public void Run<TOp, T>(long cost) where TOp : struct, IUnaryOp<T> where T : unmanaged { }
    void IBinaryRunner.Run<TOp, T>(long cost) { }
    public void Run<TOp, T>() where TOp : struct, ICompareOp<T> where T : unmanaged { }
}
