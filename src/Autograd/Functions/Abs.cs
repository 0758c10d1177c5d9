namespace Engine.Functions;

/// <summary>y = |x|.</summary>
/// <remarks>∂L/∂x = g · sign(x)   (0 at x = 0, as in PyTorch)</remarks>
internal sealed class Abs : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Abs();
    }

    protected override Variable?[] Backward(Variable g) => [g * Saved(0).Data.Sign()];
}
