namespace Engine.Functions;

/// <summary>y = erf x = 2/√π ∫₀ˣ e^(−t²) dt.</summary>
/// <remarks>∂L/∂x = g · 2/√π · e^(−x²)</remarks>
internal sealed class Erf : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Erf();
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0);
        return [g * (2 / Math.Sqrt(Math.PI)) * (-(x * x)).Exp()];
    }
}
