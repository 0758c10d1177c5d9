namespace Engine.Functions;

/// <summary>Elementwise product z = a * b, with broadcasting.</summary>
/// <remarks>
///   ∂L/∂a = g * b   (summed back to a's shape if a was broadcast)
///   ∂L/∂b = g * a   (summed back to b's shape if b was broadcast)
/// </remarks>
internal sealed class Mul : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b)
    {
        SaveInputs();
        return a * b;
    }

    protected override Variable?[] Backward(Variable g) =>
        [NeedsGrad(0) ? (g * Saved(1)).SumTo(InputShape(0)) : null,
         NeedsGrad(1) ? (g * Saved(0)).SumTo(InputShape(1)) : null];
}
