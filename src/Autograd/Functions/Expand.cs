namespace Engine.Functions;

/// <summary>y = x broadcast to a larger shape (size-1 dims repeat, new leading dims appear).</summary>
/// <remarks>∂L/∂x = g summed over the broadcast dims (<see cref="SumTo"/>): each element was used once per copy.</remarks>
internal sealed class Expand(int[] shape) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Expand(shape);

    protected override Variable?[] Backward(Variable g) => [g.SumTo(InputShape(0))];
}

/// <summary>y = x summed down to a shape that broadcasts to x's: the adjoint of broadcasting.</summary>
/// <remarks>∂L/∂x = g broadcast back to x's shape (<see cref="Expand"/>).</remarks>
internal sealed class SumTo(int[] shape) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.SumTo(shape);

    protected override Variable?[] Backward(Variable g) => [g.Expand(InputShape(0))];
}
