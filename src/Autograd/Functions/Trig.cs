namespace Engine.Functions;

/// <summary>y = sin x.</summary>
/// <remarks>∂L/∂x = g · cos x</remarks>
internal sealed class Sin : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Sin();
    }

    protected override Variable?[] Backward(Variable g) => [g * Saved(0).Cos()];
}

/// <summary>y = cos x.</summary>
/// <remarks>∂L/∂x = −g · sin x</remarks>
internal sealed class Cos : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Cos();
    }

    protected override Variable?[] Backward(Variable g) => [-(g * Saved(0).Sin())];
}
