namespace Engine.Functions;

/// <summary>y = √x.</summary>
/// <remarks>∂L/∂x = g / (2√x) = g / (2y)</remarks>
internal sealed class Sqrt : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveResult();
        return x.Sqrt();
    }

    protected override Variable?[] Backward(Variable g) => [g / (Result * 2.0)];
}
