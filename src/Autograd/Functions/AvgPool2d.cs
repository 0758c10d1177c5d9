namespace Engine.Functions;

/// <summary>2-D average pooling: each output is the mean of its window (padding counted or not).</summary>
/// <remarks>∂L/∂x: each output's gradient is shared equally by the inputs of its window (divided by the same divisor).</remarks>
internal sealed class AvgPool2d(Pool2dOptions options) : UnaryFunction
{
    protected override bool SupportsDoubleBackward => false;

    protected override Tensor Forward(Tensor x) => x.AvgPool2d(options);

    protected override Variable?[] Backward(Variable g) =>
        [new Variable(Tensor.AvgPool2dBackward(g.Data, InputShape(0), options))];
}
