namespace Engine.Functions;

/// <summary>Elementwise quotient z = a / b, with broadcasting.</summary>
/// <remarks>
///   ∂L/∂a = g / b
///   ∂L/∂b = -g · a / b²   (each summed back to its input's shape)
/// </remarks>
internal sealed class Div : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b)
    {
        SaveInputs();
        return a / b;
    }

    protected override Variable?[] Backward(Variable g)
    {
        var b = Saved(1);
        return [NeedsGrad(0) ? (g / b).SumTo(InputShape(0)) : null,
                NeedsGrad(1) ? (-g * Saved(0) / (b * b)).SumTo(InputShape(1)) : null];
    }
}
