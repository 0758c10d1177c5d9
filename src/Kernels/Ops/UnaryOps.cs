using System.Numerics.Tensors;

namespace Engine.Kernels;

// The unary elementwise ops. Each struct is the single definition of its op's math
// (grouped in one file because each is a handful of one-line members).

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

/// <summary>y = -x</summary>
public readonly struct NegOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => -x;
    /// <inheritdoc/>
    public static double Apply(double x) => -x;
    /// <inheritdoc/>
    public static int Apply(int x) => -x;
    /// <inheritdoc/>
    public static long Apply(long x) => -x;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Negate(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Negate(x, y);
}

/// <summary>y = e^x</summary>
public readonly struct ExpOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Exp(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Exp(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Exp(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Exp(x, y);
}

/// <summary>y = ln x (NaN for x &lt; 0, -∞ at 0)</summary>
public readonly struct LogOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Log(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Log(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Log(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Log(x, y);
}

/// <summary>y = √x</summary>
public readonly struct SqrtOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Sqrt(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Sqrt(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sqrt(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Sqrt(x, y);
}

/// <summary>y = |x|</summary>
public readonly struct AbsOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Abs(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Abs(x);
    /// <inheritdoc/>
    public static int Apply(int x) => x < 0 ? -x : x;
    /// <inheritdoc/>
    public static long Apply(long x) => x < 0 ? -x : x;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Abs(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Abs(x, y);
}

/// <summary>y = sign(x): 1 for x &gt; 0, -1 for x &lt; 0; ±0 and NaN are returned unchanged.</summary>
public readonly struct SignOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => x > 0 ? 1f : x < 0 ? -1f : x;
    /// <inheritdoc/>
    public static double Apply(double x) => x > 0 ? 1.0 : x < 0 ? -1.0 : x;
    /// <inheritdoc/>
    public static int Apply(int x) => x > 0 ? 1 : x < 0 ? -1 : 0;
    /// <inheritdoc/>
    public static long Apply(long x) => x > 0 ? 1 : x < 0 ? -1 : 0;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => Loops.Map<SignOp>(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => Loops.Map<SignOp>(x, y);
}

/// <summary>y = tanh x</summary>
public readonly struct TanhOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Tanh(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Tanh(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Tanh(x, y);
}

/// <summary>y = σ(x) = 1 / (1 + e^-x)</summary>
public readonly struct SigmoidOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => 1f / (1f + MathF.Exp(-x));
    /// <inheritdoc/>
    public static double Apply(double x) => 1.0 / (1.0 + Math.Exp(-x));
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Sigmoid(x, y);
}

/// <summary>y = max(x, 0); NaN stays NaN.</summary>
public readonly struct ReluOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Max(x, 0f);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Max(x, 0.0);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Max(x, 0.0, y);
}

/// <summary>y = erf(x), see <see cref="SpecialFunctions.Erf(double)"/>.</summary>
public readonly struct ErfOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => SpecialFunctions.Erf(x);
    /// <inheritdoc/>
    public static double Apply(double x) => SpecialFunctions.Erf(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => SpecialFunctions.Erf(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => Loops.Map<ErfOp>(x, y);
}

/// <summary>y = 1 / x</summary>
public readonly struct ReciprocalOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => 1f / x;
    /// <inheritdoc/>
    public static double Apply(double x) => 1.0 / x;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Divide(1f, x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Divide(1.0, x, y);
}

/// <summary>y = x²</summary>
public readonly struct SquareOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => x * x;
    /// <inheritdoc/>
    public static double Apply(double x) => x * x;
    /// <inheritdoc/>
    public static int Apply(int x) => x * x;
    /// <inheritdoc/>
    public static long Apply(long x) => x * x;
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Multiply(x, x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Multiply(x, x, y);
}

/// <summary>y = sin x</summary>
public readonly struct SinOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Sin(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Sin(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sin(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Sin(x, y);
}

/// <summary>y = cos x</summary>
public readonly struct CosOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Cos(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Cos(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Cos(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Cos(x, y);
}

/// <summary>y = ⌊x⌋</summary>
public readonly struct FloorOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Floor(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Floor(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Floor(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Floor(x, y);
}

/// <summary>y = ⌈x⌉</summary>
public readonly struct CeilOp : IUnaryOp, IUnarySpanOp
{
    /// <inheritdoc/>
    public static float Apply(float x) => MathF.Ceiling(x);
    /// <inheritdoc/>
    public static double Apply(double x) => Math.Ceiling(x);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Ceiling(x, y);
    /// <inheritdoc/>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Ceiling(x, y);
}

/// <summary>Scalar loops for ops without a vectorised span form.</summary>
internal static class Loops
{
    public static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IUnaryOp
    {
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Apply(x[i]);
    }

    public static void Map<TOp>(ReadOnlySpan<double> x, Span<double> y) where TOp : IUnaryOp
    {
        for (int i = 0; i < x.Length; i++) y[i] = TOp.Apply(x[i]);
    }
}
