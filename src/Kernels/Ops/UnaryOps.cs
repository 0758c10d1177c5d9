using System.Numerics;
using System.Numerics.Tensors;

namespace Engine.Kernels;

// The unary elementwise ops: each struct is the single definition of its op's math, generic over the element
// type (see Elementwise.cs), and UnaryOps.Run is the table from the enum to the structs.

/// <summary>The unary elementwise primitives.</summary>
public enum UnaryOp
{
    /// <summary>-x</summary>
    Neg,
    /// <summary>e^x</summary>
    Exp,
    /// <summary>ln x</summary>
    Log,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>sign(x): -1, 0 or 1 (±0 and NaN pass through)</summary>
    Sign,
    /// <summary>tanh x</summary>
    Tanh,
    /// <summary>1 / (1 + e^-x)</summary>
    Sigmoid,
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>the error function, 2/√π ∫₀ˣ e^(-t²) dt</summary>
    Erf,
    /// <summary>1 / x</summary>
    Reciprocal,
    /// <summary>x²</summary>
    Square,
    /// <summary>sin x</summary>
    Sin,
    /// <summary>cos x</summary>
    Cos,
    /// <summary>⌊x⌋</summary>
    Floor,
    /// <summary>⌈x⌉</summary>
    Ceil,
}

/// <summary>The unary op table: which struct computes each <see cref="UnaryOp"/>, on which dtypes, at what relative cost.</summary>
internal static class UnaryOps
{
    /// <summary>Runs <paramref name="op"/> at dtype <paramref name="t"/>; false when the op does not take that dtype.</summary>
    public static bool Run<R>(UnaryOp op, DType t, R r) where R : IUnaryRunner => op switch
    {
        UnaryOp.Neg => DTypeDispatch.Numbers<Neg<float>, Neg<double>, Neg<int>, Neg<long>, R>(t, r, 1),
        UnaryOp.Abs => DTypeDispatch.Numbers<Abs<float>, Abs<double>, Abs<int>, Abs<long>, R>(t, r, 1),
        UnaryOp.Sign => DTypeDispatch.Numbers<Sign<float>, Sign<double>, Sign<int>, Sign<long>, R>(t, r, 1),
        UnaryOp.Square => DTypeDispatch.Numbers<Square<float>, Square<double>, Square<int>, Square<long>, R>(t, r, 1),
        UnaryOp.Exp => DTypeDispatch.Floats<Exp<float>, Exp<double>, R>(t, r, 8),
        UnaryOp.Log => DTypeDispatch.Floats<Log<float>, Log<double>, R>(t, r, 8),
        UnaryOp.Sqrt => DTypeDispatch.Floats<Sqrt<float>, Sqrt<double>, R>(t, r, 1),
        UnaryOp.Tanh => DTypeDispatch.Floats<Tanh<float>, Tanh<double>, R>(t, r, 8),
        UnaryOp.Sigmoid => DTypeDispatch.Floats<Sigmoid<float>, Sigmoid<double>, R>(t, r, 8),
        UnaryOp.Relu => DTypeDispatch.Floats<Relu<float>, Relu<double>, R>(t, r, 1),
        UnaryOp.Erf => DTypeDispatch.Floats<Erf<float>, Erf<double>, R>(t, r, 32),
        UnaryOp.Reciprocal => DTypeDispatch.Floats<Reciprocal<float>, Reciprocal<double>, R>(t, r, 1),
        UnaryOp.Sin => DTypeDispatch.Floats<Sin<float>, Sin<double>, R>(t, r, 8),
        UnaryOp.Cos => DTypeDispatch.Floats<Cos<float>, Cos<double>, R>(t, r, 8),
        UnaryOp.Floor => DTypeDispatch.Floats<Floor<float>, Floor<double>, R>(t, r, 1),
        UnaryOp.Ceil => DTypeDispatch.Floats<Ceil<float>, Ceil<double>, R>(t, r, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    /// <summary>y[i] = TOp(x[i]) one element at a time, for ops without a vectorised form.</summary>
    public static void Loop<TOp, T>(ReadOnlySpan<T> x, Span<T> y) where TOp : IUnaryOp<T> where T : unmanaged
    {
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Apply(x[i]);
    }

    /// <summary>Whether T is float or double (the span paths of TensorPrimitives that integers must not take).</summary>
    public static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);
}

/// <summary>y = -x (integers wrap: -MinValue is MinValue)</summary>
internal readonly struct Neg<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T x) => -x;
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Negate(x, y);
}

/// <summary>y = |x| (the sign bit cleared for floats, so |-0| = 0; integers wrap: |MinValue| is MinValue)</summary>
internal readonly struct Abs<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T x) => T.IsNegative(x) ? -x : x;
    public static void Apply(ReadOnlySpan<T> x, Span<T> y)
    {
        if (UnaryOps.IsFloat<T>()) TensorPrimitives.Abs(x, y);   // its integer form throws on MinValue
        else UnaryOps.Loop<Abs<T>, T>(x, y);
    }
}

/// <summary>y = sign(x): 1 for x &gt; 0, -1 for x &lt; 0; ±0 and NaN are returned unchanged.</summary>
internal readonly struct Sign<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T x) => x > T.Zero ? T.One : x < T.Zero ? -T.One : x;
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => UnaryOps.Loop<Sign<T>, T>(x, y);
}

/// <summary>y = x²</summary>
internal readonly struct Square<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T x) => x * x;
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, x, y);
}

/// <summary>y = e^x</summary>
internal readonly struct Exp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Exp(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Exp(x, y);
}

/// <summary>y = ln x (NaN for x &lt; 0, -∞ at 0)</summary>
internal readonly struct Log<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Log(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Log(x, y);
}

/// <summary>y = √x</summary>
internal readonly struct Sqrt<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Sqrt(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sqrt(x, y);
}

/// <summary>y = tanh x</summary>
internal readonly struct Tanh<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Tanh(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Tanh(x, y);
}

/// <summary>y = σ(x) = 1 / (1 + e^-x)</summary>
internal readonly struct Sigmoid<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.One / (T.One + T.Exp(-x));
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sigmoid(x, y);
}

/// <summary>y = max(x, 0); NaN stays NaN.</summary>
internal readonly struct Relu<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Max(x, T.Zero);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Max(x, T.Zero, y);
}

/// <summary>
/// y = erf(x). The definition is <see cref="SpecialFunctions.Erf{T}"/> in T's own arithmetic (the GPU kernels);
/// the CPU's float spans use the fitted polynomials, its double spans the double series.
/// </summary>
internal readonly struct Erf<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => SpecialFunctions.Erf(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y)
    {
        if (typeof(T) == typeof(float))
            SpecialFunctions.Erf(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y));
        else
            UnaryOps.Loop<Erf<T>, T>(x, y);
    }
}

/// <summary>y = 1 / x</summary>
internal readonly struct Reciprocal<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.One / x;
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Divide(T.One, x, y);
}

/// <summary>y = sin x</summary>
internal readonly struct Sin<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Sin(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sin(x, y);
}

/// <summary>y = cos x</summary>
internal readonly struct Cos<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Cos(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Cos(x, y);
}

/// <summary>y = ⌊x⌋</summary>
internal readonly struct Floor<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Floor(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Floor(x, y);
}

/// <summary>y = ⌈x⌉</summary>
internal readonly struct Ceil<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T x) => T.Ceiling(x);
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Ceiling(x, y);
}
