namespace Engine.Functions;

/// <summary>z = c ? a : b elementwise for a constant Bool condition c, with broadcasting.</summary>
/// <remarks>
///   ∂L/∂a = c ? g : 0
///   ∂L/∂b = c ? 0 : g      (each summed back to its input's shape)
/// </remarks>
internal sealed class Where(Tensor condition) : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b) => Tensor.Where(condition, a, b);

    protected override Variable?[] Backward(Variable g)
    {
        var zero = new Variable(Tensor.Zeros([], g.DType, g.Device));
        return [NeedsGrad(0) ? Variable.Where(condition, g, zero).SumTo(InputShape(0)) : null,
                NeedsGrad(1) ? Variable.Where(condition, zero, g).SumTo(InputShape(1)) : null];
    }
}
