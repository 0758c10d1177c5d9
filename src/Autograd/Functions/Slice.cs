namespace Engine.Functions;

/// <summary>y = x[start:end:step] along one axis (Python slicing; bounds clamped).</summary>
/// <remarks>∂L/∂x = zeros of x's shape with g written into the sliced positions (<see cref="SliceScatter"/>).</remarks>
internal sealed class Slice(int axis, int start, int end, int step) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Slice(axis, start, end, step);

    protected override Variable?[] Backward(Variable g) =>
        [Variable.Apply(new SliceScatter(InputShape(0), axis, start, end, step), g)];
}

/// <summary>y = zeros of a given shape with x written at [start:end:step] along one axis: the adjoint of <see cref="Slice"/>.</summary>
/// <remarks>∂L/∂x = g[start:end:step]</remarks>
internal sealed class SliceScatter(int[] shape, int axis, int start, int end, int step) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        var y = Tensor.Zeros(shape, x.DType, x.Device);
        using var region = y.Slice(axis, start, end, step);
        region.CopyFrom(x);
        return y;
    }

    protected override Variable?[] Backward(Variable g) => [g.Slice(axis, start, end, step)];
}
