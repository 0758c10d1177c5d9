namespace Engine.Functions;

/// <summary>y = (1/n) Σ x over the given axes, n the number of elements reduced.</summary>
/// <remarks>∂L/∂x = g / n, broadcast back over the reduced axes.</remarks>
internal sealed class Mean(int[] axes, bool keepDim) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Mean(axes, keepDim);

    protected override Variable?[] Backward(Variable g) =>
        [ReduceAxes.Unreduce(g, InputShape(0), axes, keepDim) / ReduceAxes.Count(InputShape(0), axes)];
}
