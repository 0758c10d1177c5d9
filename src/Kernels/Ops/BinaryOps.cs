using System.Numerics.Tensors;

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
