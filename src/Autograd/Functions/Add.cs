namespace Engine.Functions;

/// <summary>Elementwise sum z = a + b, with broadcasting.</summary>
/// <remarks>
/// With upstream gradient g = ∂L/∂z:
///   ∂L/∂a = g   (summed back to a's shape if a was broadcast)
///   ∂L/∂b = g   (summed back to b's shape if b was broadcast)
/// </remarks>
internal sealed class Add : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b) => a + b;

    protected override Variable?[] Backward(Variable g) =>
        [NeedsGrad(0) ? g.SumTo(InputShape(0)) : null,
         NeedsGrad(1) ? g.SumTo(InputShape(1)) : null];
}
