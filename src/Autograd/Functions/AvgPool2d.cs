namespace Engine.Functions;

/// <summary>2-D average pooling: each output is the mean of its window (padding counted or not).</summary>
/// <remarks>
/// ∂L/∂x: each output's gradient is shared equally by the inputs of its window (divided by the same
/// divisor). The pooling is linear, y = A·x, so ∂L/∂x = Aᵀ·g is linear in g; it is its own
/// function (<see cref="AvgPool2dGrad"/>) whose derivative is A again, so gradients of any order flow.
/// </remarks>
internal sealed class AvgPool2d(Pool2dOptions options) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.AvgPool2d(options);

    protected override Variable?[] Backward(Variable g) => [new AvgPool2dGrad(InputShape(0), options).Apply(g)];
}

/// <summary>The gradient of average pooling as a function of the upstream gradient: Aᵀ·g.</summary>
/// <remarks>∂L/∂g = A·h: average pooling of the upstream gradient h.</remarks>
internal sealed class AvgPool2dGrad(int[] inputShape, Pool2dOptions options) : UnaryFunction
{
    protected override Tensor Forward(Tensor g) => Tensor.AvgPool2dBackward(g, inputShape, options);

    protected override Variable?[] Backward(Variable h) => [h.AvgPool2d(options)];
}
