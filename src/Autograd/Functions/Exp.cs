namespace Engine.Functions;

/// <summary>y = eˣ.</summary>
/// <remarks>∂L/∂x = g · eˣ = g · y</remarks>
internal sealed class Exp : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveResult();
        return x.Exp();
    }

    protected override Variable?[] Backward(Variable g) => [g * Result];
}
