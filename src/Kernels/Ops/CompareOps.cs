using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

// Comparisons: IEEE semantics, so every comparison with NaN is false except Ne. Each struct is generic over the
// element type (see Elementwise.cs); CompareOps.Run is the table from the enum to the structs.

/// <summary>The comparison primitives; each produces a Bool tensor.</summary>
public enum CompareOp
{
    /// <summary>a == b</summary>
    Eq,
    /// <summary>a != b</summary>
    Ne,
    /// <summary>a &lt; b</summary>
    Lt,
    /// <summary>a &lt;= b</summary>
    Le,
    /// <summary>a &gt; b</summary>
    Gt,
    /// <summary>a &gt;= b</summary>
    Ge,
}

/// <summary>The comparison table: every dtype, Bool only for equality.</summary>
internal static class CompareOps
{
    /// <summary>Runs <paramref name="op"/> at dtype <paramref name="t"/>; false when the op does not take that dtype.</summary>
    public static bool Run<R>(CompareOp op, DType t, R r) where R : ICompareRunner => op switch
    {
        CompareOp.Eq => DTypeDispatch.Compare<Eq<float>, Eq<double>, Eq<int>, Eq<long>, Eq<byte>, R>(t, r, onBool: true),
        CompareOp.Ne => DTypeDispatch.Compare<Ne<float>, Ne<double>, Ne<int>, Ne<long>, Ne<byte>, R>(t, r, onBool: true),
        CompareOp.Lt => DTypeDispatch.Compare<Lt<float>, Lt<double>, Lt<int>, Lt<long>, Lt<byte>, R>(t, r, onBool: false),
        CompareOp.Le => DTypeDispatch.Compare<Le<float>, Le<double>, Le<int>, Le<long>, Le<byte>, R>(t, r, onBool: false),
        CompareOp.Gt => DTypeDispatch.Compare<Gt<float>, Gt<double>, Gt<int>, Gt<long>, Gt<byte>, R>(t, r, onBool: false),
        CompareOp.Ge => DTypeDispatch.Compare<Ge<float>, Ge<double>, Ge<int>, Ge<long>, Ge<byte>, R>(t, r, onBool: false),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}

/// <summary>a == b</summary>
internal readonly struct Eq<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Apply(T a, T b) => a == b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Equals(a, b);
}

/// <summary>a != b (true when either is NaN)</summary>
internal readonly struct Ne<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Apply(T a, T b) => a != b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => ~Vector256.Equals(a, b);
}

/// <summary>a &lt; b</summary>
internal readonly struct Lt<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Apply(T a, T b) => a < b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.LessThan(a, b);
}

/// <summary>a &lt;= b</summary>
internal readonly struct Le<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Apply(T a, T b) => a <= b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.LessThanOrEqual(a, b);
}

/// <summary>a &gt; b</summary>
internal readonly struct Gt<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Apply(T a, T b) => a > b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThan(a, b);
}

/// <summary>a &gt;= b</summary>
internal readonly struct Ge<T> : ICompareOp<T> where T : unmanaged, INumber<T>
{
    public static bool Apply(T a, T b) => a >= b;
    public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThanOrEqual(a, b);
}
