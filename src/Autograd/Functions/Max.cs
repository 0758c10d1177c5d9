namespace Engine.Functions;

/// <summary>y = max x (or min, for <see cref="Min"/>) over the given axes.</summary>
/// <remarks>
/// ∂L/∂x = g · [x = y] / (number of elements equal to y): the gradient goes to the maximum and is
/// shared evenly among ties (PyTorch's amax). For one axis with indices, see <see cref="MaxAlongAxis"/>.
/// </remarks>
internal class Max(int[] axes, bool keepDim) : UnaryFunction
{
    protected virtual bool IsMin => false;

    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        SaveResult();
        return IsMin ? x.Min(axes, keepDim) : x.Max(axes, keepDim);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0).Data;
        var shape = InputShape(0);
        Tensor share;
        using (var scope = Tensor.Scope())
        {
            var y = keepDim ? Result.Data : Result.Data.Reshape(ReduceAxes.KeptShape(shape, axes));
            var hits = x.Eq(y).To(x.DType);
            share = scope.Keep(hits / hits.Sum(ReduceAxes.Normalize(axes, shape.Length), keepDim: true));
        }
        return [ReduceAxes.Unreduce(g, shape, axes, keepDim) * share];
    }
}

/// <summary>y = min x over the given axes; the gradient is shared evenly among ties.</summary>
internal sealed class Min(int[] axes, bool keepDim) : Max(axes, keepDim)
{
    protected override bool IsMin => true;
}

/// <summary>
/// y = max x along one axis, with the Int64 indices of the maxima (or min, with <paramref name="min"/>).
/// </summary>
/// <remarks>∂L/∂x = g scattered to the chosen index: x[.., idx, ..] receives g, everything else 0.</remarks>
internal sealed class MaxAlongAxis(int axis, bool keepDim, bool min) : UnaryFunction
{
    public Tensor? Indices { get; private set; }

    public override string Name => min ? "MinAlongAxis" : "MaxAlongAxis";

    protected override Tensor Forward(Tensor x)
    {
        using var idx = min ? x.ArgMin(axis, keepDim: true) : x.ArgMax(axis, keepDim: true);
        using var values = x.Gather(axis, idx);
        Keep(idx.Clone());
        Indices = keepDim ? idx.Clone() : idx.Squeeze(axis);
        return keepDim ? values.Clone() : values.Squeeze(axis);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var shape = InputShape(0);
        int a = axis < 0 ? axis + shape.Length : axis;
        var kept = keepDim ? g : g.Unsqueeze(a);
        var zeros = new Variable(Tensor.Zeros(shape, g.DType, g.Device));
        return [zeros.ScatterAdd(a, Kept(0), kept)];
    }
}
