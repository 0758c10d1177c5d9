namespace Engine.Functions;

/// <summary>Elementwise difference z = a - b, with broadcasting.</summary>
/// <remarks>
///   ∂L/∂a = g
///   ∂L/∂b = -g   (each summed back to its input's shape)
/// </remarks>
internal sealed class Sub : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b) => a - b;

    protected override Variable?[] Backward(Variable g) =>
        [NeedsGrad(0) ? g.SumTo(InputShape(0)) : null,
         NeedsGrad(1) ? (-g).SumTo(InputShape(1)) : null];
}
