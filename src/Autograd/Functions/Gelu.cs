namespace Engine.Functions;

/// <summary>
/// GELU: y = x·Φ(x) with Φ the standard normal CDF, Φ(x) = ½(1 + erf(x/√2)); or, with the tanh
/// approximation, y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³).
/// </summary>
/// <remarks>
/// Exact:  ∂L/∂x = g · (Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)
/// Tanh:   ∂L/∂x = g · (½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²))
/// </remarks>
internal sealed class Gelu(bool tanhApproximation) : UnaryFunction
{
    private const double C = 0.044715;

    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Gelu(tanhApproximation);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0);
        if (!tanhApproximation)
        {
            var cdf = ((x * (1 / Math.Sqrt(2))).Erf() + 1.0) * 0.5;
            var pdf = (x * x * -0.5).Exp() * (1 / Math.Sqrt(2 * Math.PI));
            return [g * (cdf + x * pdf)];
        }
        double k = Math.Sqrt(2 / Math.PI);
        var t = ((x + x * x * x * C) * k).Tanh();
        return [g * ((t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * ((x * x * (3 * C) + 1.0) * k))];
    }
}
