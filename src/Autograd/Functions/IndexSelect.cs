namespace Engine.Functions;

/// <summary>y = x selected at the (1-D, constant) indices along one axis; with axis 0 on a table, an embedding lookup.</summary>
/// <remarks>
/// ∂L/∂x: the adjoint of selection, index-add: x[.., index[j], ..] += g[.., j, ..] (repeated indices add up).
/// Written as a scatter-add with the indices broadcast to g's shape.
/// </remarks>
internal sealed class IndexSelect(int axis, Tensor index) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.IndexSelect(axis, index);

    protected override Variable?[] Backward(Variable g)
    {
        var shape = InputShape(0);
        int a = axis < 0 ? axis + shape.Length : axis;
        var viewShape = Enumerable.Repeat(1, g.Rank).ToArray();
        viewShape[a] = g.Shape[a];
        using var idx = index.To(DType.Int64).Reshape(viewShape);
        var spread = idx.Expand(g.Shape.ToArray()).Contiguous();
        var zeros = new Variable(Tensor.Zeros(shape, g.DType, g.Device));
        return [zeros.ScatterAdd(a, spread, g)];
    }
}
