using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

// The binary elementwise ops: one struct per op, the scalar members are its definition.

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

/// <summary>z = a + b</summary>
public readonly struct AddOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => a + b;
    /// <inheritdoc/>
    public static double Apply(double a, double b) => a + b;
    /// <inheritdoc/>
    public static int Apply(int a, int b) => a + b;
    /// <inheritdoc/>
    public static long Apply(long a, long b) => a + b;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Add(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Add(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Add(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Add(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Add(b, a, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Add(b, a, z);
}

/// <summary>z = a - b</summary>
public readonly struct SubOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => a - b;
    /// <inheritdoc/>
    public static double Apply(double a, double b) => a - b;
    /// <inheritdoc/>
    public static int Apply(int a, int b) => a - b;
    /// <inheritdoc/>
    public static long Apply(long a, long b) => a - b;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Subtract(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Subtract(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Subtract(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Subtract(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Subtract(a, b, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Subtract(a, b, z);
}

/// <summary>z = a * b</summary>
public readonly struct MulOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => a * b;
    /// <inheritdoc/>
    public static double Apply(double a, double b) => a * b;
    /// <inheritdoc/>
    public static int Apply(int a, int b) => a * b;
    /// <inheritdoc/>
    public static long Apply(long a, long b) => a * b;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Multiply(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Multiply(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Multiply(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Multiply(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Multiply(b, a, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Multiply(b, a, z);
}

/// <summary>z = a / b (IEEE: x/0 is ±∞, 0/0 is NaN)</summary>
public readonly struct DivOp : IBinaryOp, IBinarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => a / b;
    /// <inheritdoc/>
    public static double Apply(double a, double b) => a / b;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Divide(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Divide(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Divide(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Divide(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Divide(a, b, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Divide(a, b, z);
}

/// <summary>z = a ^ b (NaN for a negative base with a non-integer exponent)</summary>
public readonly struct PowOp : IBinaryOp, IBinarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => MathF.Pow(a, b);
    /// <inheritdoc/>
    public static double Apply(double a, double b) => Math.Pow(a, b);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Pow(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Pow(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Pow(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Pow(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Pow(a, b, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Pow(a, b, z);
}

/// <summary>z = max(a, b); NaN if either is NaN, and max(-0, +0) = +0</summary>
public readonly struct MaxOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => MathF.Max(a, b);
    /// <inheritdoc/>
    public static double Apply(double a, double b) => Math.Max(a, b);
    /// <inheritdoc/>
    public static int Apply(int a, int b) => Math.Max(a, b);
    /// <inheritdoc/>
    public static long Apply(long a, long b) => Math.Max(a, b);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Max(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Max(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Max(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Max(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Max(b, a, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Max(b, a, z);
}

/// <summary>z = min(a, b); NaN if either is NaN, and min(-0, +0) = -0</summary>
public readonly struct MinOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => MathF.Min(a, b);
    /// <inheritdoc/>
    public static double Apply(double a, double b) => Math.Min(a, b);
    /// <inheritdoc/>
    public static int Apply(int a, int b) => Math.Min(a, b);
    /// <inheritdoc/>
    public static long Apply(long a, long b) => Math.Min(a, b);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Min(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Min(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z) => TensorPrimitives.Min(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z) => TensorPrimitives.Min(a, b, z);
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => TensorPrimitives.Min(b, a, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => TensorPrimitives.Min(b, a, z);
}

/// <summary>
/// z = b &gt; 0 ? a : 0, ReLU's backward with a the upstream gradient and b the forward input
/// (PyTorch's threshold_backward at 0): one pass instead of a comparison, a select and a product.
/// A NaN input b gives 0, a NaN gradient a where b &gt; 0 stays NaN.
/// </summary>
public readonly struct ReluGradOp : IBinaryOp, IBinarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float a, float b) => b > 0 ? a : 0f;
    /// <inheritdoc/>
    public static double Apply(double a, double b) => b > 0 ? a : 0d;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> z) => Masked(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> z) => Masked(a, b, z);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> a, float b, Span<float> z)
    {
        if (b > 0) a.CopyTo(z);
        else z.Clear();
    }
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> a, double b, Span<double> z)
    {
        if (b > 0) a.CopyTo(z);
        else z.Clear();
    }
    /// <inheritdoc/>
    public static void Apply(float a, ReadOnlySpan<float> b, Span<float> z) => Masked(a, b, z);
    /// <inheritdoc/>
    public static void Apply(double a, ReadOnlySpan<double> b, Span<double> z) => Masked(a, b, z);

    /// <summary>The gradient's bits ANDed with the all-ones mask of b &gt; 0 (no branches on the data).</summary>
    private static void Masked<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> z) where T : unmanaged, System.Numerics.INumber<T>
    {
        int i = 0, w = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
            for (; i + w <= z.Length; i += w)
                (Vector256.Create(a.Slice(i, w)) & Vector256.GreaterThan(Vector256.Create(b.Slice(i, w)), Vector256<T>.Zero)).CopyTo(z.Slice(i, w));
        for (; i < z.Length; i++) z[i] = b[i] > T.Zero ? a[i] : T.Zero;
    }

    private static void Masked<T>(T a, ReadOnlySpan<T> b, Span<T> z) where T : unmanaged, System.Numerics.INumber<T>
    {
        int i = 0, w = Vector256<T>.Count;
        var va = Vector256.Create(a);
        if (Vector256.IsHardwareAccelerated)
            for (; i + w <= z.Length; i += w)
                (va & Vector256.GreaterThan(Vector256.Create(b.Slice(i, w)), Vector256<T>.Zero)).CopyTo(z.Slice(i, w));
        for (; i < z.Length; i++) z[i] = b[i] > T.Zero ? a : T.Zero;
    }
}
