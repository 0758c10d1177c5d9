namespace Engine.Functions;

/// <summary>y = ln x.</summary>
/// <remarks>∂L/∂x = g / x</remarks>
internal sealed class Log : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Log();
    }

    protected override Variable?[] Backward(Variable g) => [g / Saved(0)];
}
