namespace Engine.Functions;

/// <summary>y = σ(x) = 1 / (1 + e⁻ˣ).</summary>
/// <remarks>∂L/∂x = g · σ(x)(1 − σ(x)) = g · y(1 − y)</remarks>
internal sealed class Sigmoid : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveResult();
        return x.Sigmoid();
    }

    protected override Variable?[] Backward(Variable g)
    {
        var y = Result;
        return [g * y * (1.0 - y)];
    }
}
