namespace Engine.Functions;

/// <summary>y = ln Σ eˣ over the given axes (computed stably).</summary>
/// <remarks>∂L/∂x = g · e^(x − y): the softmax of x along the axes.</remarks>
internal sealed class LogSumExp(int[] axes, bool keepDim) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        SaveResult();
        return x.LogSumExp(axes, keepDim);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var shape = InputShape(0);
        var y = keepDim ? Result : Result.Reshape(ReduceAxes.KeptShape(shape, axes));
        return [ReduceAxes.Unreduce(g, shape, axes, keepDim) * (Saved(0) - y).Exp()];
    }
}
