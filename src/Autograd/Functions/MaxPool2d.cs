namespace Engine.Functions;

/// <summary>2-D max pooling: each output is the largest input in its window.</summary>
/// <remarks>
/// ∂L/∂x: each output's gradient goes to the input position that was its maximum (recorded in the
/// forward pass); positions that were nobody's maximum get 0, and overlapping windows add up.
/// </remarks>
internal sealed class MaxPool2d(Pool2dOptions options) : UnaryFunction
{
    protected override bool SupportsDoubleBackward => false;

    protected override Tensor Forward(Tensor x)
    {
        var (y, indices) = x.MaxPool2dWithIndices(options);
        Keep(indices);
        return y;
    }

    protected override Variable?[] Backward(Variable g) =>
        [new Variable(Tensor.MaxPool2dBackward(g.Data, Kept(0), InputShape(0), options))];
}
