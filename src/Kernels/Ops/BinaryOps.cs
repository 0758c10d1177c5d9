using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

// The binary elementwise ops: each struct is the single definition of its op's math, generic over the element
// type (see Elementwise.cs), and BinaryOps.Run is the table from the enum to the structs.

/// <summary>The binary elementwise primitives.</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a - b</summary>
    Sub,
    /// <summary>a * b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
    /// <summary>a ^ b</summary>
    Pow,
    /// <summary>max(a, b), NaN if either is NaN</summary>
    Max,
    /// <summary>min(a, b), NaN if either is NaN</summary>
    Min,
    /// <summary>a where b &gt; 0, else 0: ReLU's backward (a the upstream gradient, b the input) in one pass</summary>
    ReluGrad,
}

/// <summary>The binary op table: which struct computes each <see cref="BinaryOp"/>, on which dtypes, at what relative cost.</summary>
internal static class BinaryOps
{
    /// <summary>Runs <paramref name="op"/> at dtype <paramref name="t"/>; false when the op does not take that dtype.</summary>
    public static bool Run<R>(BinaryOp op, DType t, R r) where R : IBinaryRunner => op switch
    {
        BinaryOp.Add => DTypeDispatch.BinaryNumbers<Add<float>, Add<double>, Add<int>, Add<long>, R>(t, r, 1),
        BinaryOp.Sub => DTypeDispatch.BinaryNumbers<Sub<float>, Sub<double>, Sub<int>, Sub<long>, R>(t, r, 1),
        BinaryOp.Mul => DTypeDispatch.BinaryNumbers<Mul<float>, Mul<double>, Mul<int>, Mul<long>, R>(t, r, 1),
        BinaryOp.Max => DTypeDispatch.BinaryNumbers<Max<float>, Max<double>, Max<int>, Max<long>, R>(t, r, 1),
        BinaryOp.Min => DTypeDispatch.BinaryNumbers<Min<float>, Min<double>, Min<int>, Min<long>, R>(t, r, 1),
        BinaryOp.Div => DTypeDispatch.BinaryFloats<Div<float>, Div<double>, R>(t, r, 1),
        BinaryOp.Pow => DTypeDispatch.BinaryFloats<Pow<float>, Pow<double>, R>(t, r, 16),
        BinaryOp.ReluGrad => DTypeDispatch.BinaryFloats<ReluGrad<float>, ReluGrad<double>, R>(t, r, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}

/// <summary>z = a + b</summary>
internal readonly struct Add<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a + b;
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Add(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Add(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Add(b, a, z);
}

/// <summary>z = a - b</summary>
internal readonly struct Sub<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a - b;
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Subtract(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Subtract(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Subtract(a, b, z);
}

/// <summary>z = a * b</summary>
internal readonly struct Mul<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a * b;
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Multiply(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Multiply(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Multiply(b, a, z);
}

/// <summary>z = max(a, b); NaN if either is NaN, and max(-0, +0) = +0</summary>
internal readonly struct Max<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => T.Max(a, b);
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Max(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Max(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Max(b, a, z);
}

/// <summary>z = min(a, b); NaN if either is NaN, and min(-0, +0) = -0</summary>
internal readonly struct Min<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => T.Min(a, b);
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Min(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Min(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Min(b, a, z);
}

/// <summary>z = a / b (IEEE: x/0 is ±∞, 0/0 is NaN)</summary>
internal readonly struct Div<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a / b;
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Divide(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Divide(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Divide(a, b, z);
}

/// <summary>z = a ^ b (NaN for a negative base with a non-integer exponent)</summary>
internal readonly struct Pow<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => T.Pow(a, b);
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Pow(a, b, z);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z) => TensorPrimitives.Pow(a, b, z);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z) => TensorPrimitives.Pow(a, b, z);
}

/// <summary>
/// z = b &gt; 0 ? a : 0, ReLU's backward with a the upstream gradient and b the forward input
/// (PyTorch's threshold_backward at 0): one pass instead of a comparison, a select and a product.
/// A NaN input b gives 0, a NaN gradient a where b &gt; 0 stays NaN.
/// </summary>
internal readonly struct ReluGrad<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => b > T.Zero ? a : T.Zero;

    /// <summary>The gradient's bits ANDed with the all-ones mask of b &gt; 0 (no branches on the data).</summary>
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z)
    {
        int i = 0, w = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
            for (; i + w <= z.Length; i += w)
                (Vector256.Create(a.Slice(i, w)) & Vector256.GreaterThan(Vector256.Create(b.Slice(i, w)), Vector256<T>.Zero)).CopyTo(z.Slice(i, w));
        for (; i < z.Length; i++) z[i] = Apply(a[i], b[i]);
    }

    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> z)
    {
        if (b > T.Zero) a.CopyTo(z);
        else z.Clear();
    }

    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> z)
    {
        int i = 0, w = Vector256<T>.Count;
        var va = Vector256.Create(a);
        if (Vector256.IsHardwareAccelerated)
            for (; i + w <= z.Length; i += w)
                (va & Vector256.GreaterThan(Vector256.Create(b.Slice(i, w)), Vector256<T>.Zero)).CopyTo(z.Slice(i, w));
        for (; i < z.Length; i++) z[i] = Apply(a, b[i]);
    }
}
