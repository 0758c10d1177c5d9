namespace Engine.Functions;

/// <summary>2-D max pooling: each output is the largest input in its window.</summary>
/// <remarks>
/// ∂L/∂x: each output's gradient goes to the input position that was its maximum (recorded in the
/// forward pass); positions that were nobody's maximum get 0, and overlapping windows add up.
/// That is a scatter-add of g at constant indices, linear in g: when the backward pass is recorded
/// (second-order gradients) it is written as <see cref="Variable.ScatterAdd"/> over each plane,
/// whose derivative gathers at the same indices; otherwise the pooling kernel's own backward runs.
/// </remarks>
internal sealed class MaxPool2d(Pool2dOptions options) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        if (!Recorded) return x.MaxPool2d(options);   // no backward: the values alone
        var (y, indices) = x.MaxPool2dWithIndices(options);
        Keep(indices);
        return y;
    }

    protected override Variable?[] Backward(Variable g)
    {
        var shape = InputShape(0);
        if (!GradMode.IsEnabled) return [new Variable(Tensor.MaxPool2dBackward(g.Data, Kept(0), shape, options))];
        // indices are positions within each H×W plane: scatter each plane's gradients into its plane
        int planes = shape[0] * shape[1];
        var index = Kept(0).Reshape(planes, -1);
        var zeros = new Variable(Tensor.Zeros([planes, shape[2] * shape[3]], g.DType, g.Device));
        return [zeros.ScatterAdd(1, index, g.Reshape(planes, -1)).Reshape(shape)];
    }
}
