namespace Engine.Tests;

/// <summary>A unary op: the tensor call, a float64 reference, and a domain away from kinks and poles.</summary>
public sealed record UnaryCase(string Name, Func<Tensor, Tensor> Op, Func<double, double> Ref, double Lo, double Hi, bool Integers = false)
{
    public override string ToString() => Name;
}

/// <summary>A binary op with a domain per operand.</summary>
public sealed record BinaryCase(string Name, Func<Tensor, Tensor, Tensor> Op, Func<Tensor, double, Tensor>? WithScalar,
    Func<double, double, double> Ref, double Lo, double Hi, double LoB, double HiB, bool Integers = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// The op table every backend's elementwise tests run over (PyTorch's OpInfo idea): one row per
/// op with its reference written as plain double math.
/// </summary>
public static class OpDb
{
    private static double Sign(double x) => x > 0 ? 1 : x < 0 ? -1 : x;
    private static double Gelu(double x) => 0.5 * x * (1 + RefMath.Erf(x / Math.Sqrt(2)));
    private static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    public static readonly UnaryCase[] Unary =
    [
        new("Neg", t => t.Neg(), x => -x, -5, 5, Integers: true),
        new("Exp", t => t.Exp(), Math.Exp, -5, 5),
        new("Log", t => t.Log(), Math.Log, 0.1, 10),
        new("Sqrt", t => t.Sqrt(), Math.Sqrt, 0, 10),
        new("Abs", t => t.Abs(), Math.Abs, -5, 5, Integers: true),
        new("Sign", t => t.Sign(), Sign, -5, 5, Integers: true),
        new("Tanh", t => t.Tanh(), Math.Tanh, -4, 4),
        new("Sigmoid", t => t.Sigmoid(), RefMath.Sigmoid, -8, 8),
        new("Relu", t => t.Relu(), x => double.IsNaN(x) ? x : Math.Max(x, 0), -5, 5),
        new("Erf", t => t.Erf(), RefMath.Erf, -4, 4),
        new("Reciprocal", t => t.Reciprocal(), x => 1 / x, 0.2, 5),
        new("Square", t => t.Square(), x => x * x, -5, 5, Integers: true),
        new("Sin", t => t.Sin(), Math.Sin, -6, 6),
        new("Cos", t => t.Cos(), Math.Cos, -6, 6),
        new("Floor", t => t.Floor(), Math.Floor, -5, 5),
        new("Ceil", t => t.Ceil(), Math.Ceiling, -5, 5),
        new("Gelu", t => t.Gelu(), Gelu, -5, 5),
        new("GeluTanh", t => t.Gelu(tanhApproximation: true), GeluTanh, -5, 5),
        new("LeakyRelu", t => t.LeakyRelu(0.1), x => x > 0 ? x : 0.1 * x, -5, 5),
        new("Clamp", t => t.Clamp(-0.5, 0.5), x => double.IsNaN(x) ? x : Math.Min(Math.Max(x, -0.5), 0.5), -2, 2),
    ];

    public static readonly BinaryCase[] Binary =
    [
        new("Add", (a, b) => a + b, (a, s) => a + s, (a, b) => a + b, -5, 5, -5, 5, Integers: true),
        new("Sub", (a, b) => a - b, (a, s) => a - s, (a, b) => a - b, -5, 5, -5, 5, Integers: true),
        new("Mul", (a, b) => a * b, (a, s) => a * s, (a, b) => a * b, -5, 5, -5, 5, Integers: true),
        new("Div", (a, b) => a / b, (a, s) => a / s, (a, b) => a / b, -5, 5, 0.5, 3),
        new("Pow", (a, b) => a.Pow(b), (a, s) => a.Pow(s), Math.Pow, 0.5, 2, -2, 2),
        new("Maximum", (a, b) => a.Maximum(b), null, (a, b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b), -5, 5, -5, 5, Integers: true),
        new("Minimum", (a, b) => a.Minimum(b), null, (a, b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b), -5, 5, -5, 5, Integers: true),
        new("ReluGrad", (a, b) => a.ReluGrad(b), null, (a, b) => b > 0 ? a : 0, -5, 5, -5, 5),
    ];

    public static readonly BinaryCase[] Compare =
    [
        new("Eq", (a, b) => a.Eq(b), (a, s) => a.Eq(s), (a, b) => a == b ? 1 : 0, -3, 3, -3, 3, Integers: true),
        new("Ne", (a, b) => a.Ne(b), (a, s) => a.Ne(s), (a, b) => a != b ? 1 : 0, -3, 3, -3, 3, Integers: true),
        new("Lt", (a, b) => a < b, (a, s) => a < s, (a, b) => a < b ? 1 : 0, -3, 3, -3, 3, Integers: true),
        new("Le", (a, b) => a <= b, (a, s) => a <= s, (a, b) => a <= b ? 1 : 0, -3, 3, -3, 3, Integers: true),
        new("Gt", (a, b) => a > b, (a, s) => a > s, (a, b) => a > b ? 1 : 0, -3, 3, -3, 3, Integers: true),
        new("Ge", (a, b) => a >= b, (a, s) => a >= s, (a, b) => a >= b ? 1 : 0, -3, 3, -3, 3, Integers: true),
    ];

    /// <summary>NaN, ±∞, ±0 and two ordinary values: the edge inputs every op is run on.</summary>
    public static readonly double[] Specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1.0, -1.5];
}
