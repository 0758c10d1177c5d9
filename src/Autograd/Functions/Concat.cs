namespace Engine.Functions;

/// <summary>y = the inputs joined along one axis.</summary>
/// <remarks>∂L/∂xᵢ = the slice of g that xᵢ occupies along the axis.</remarks>
internal sealed class Concat(int axis) : Function
{
    protected override Tensor Forward(Tensor[] inputs) => Tensor.Concat(inputs, axis);

    protected override Variable?[] Backward(Variable g)
    {
        int a = axis < 0 ? axis + g.Rank : axis;
        var grads = new Variable?[Inputs.Count];
        int at = 0;
        for (int i = 0; i < grads.Length; i++)
        {
            int size = InputShape(i)[a];
            if (NeedsGrad(i)) grads[i] = g.Slice(a, at, at + size);
            at += size;
        }
        return grads;
    }
}

/// <summary>y = the inputs (all of one shape) stacked along a new axis.</summary>
/// <remarks>∂L/∂xᵢ = g at index i of the new axis.</remarks>
internal sealed class Stack(int axis) : Function
{
    protected override Tensor Forward(Tensor[] inputs) => Tensor.Stack(inputs, axis);

    protected override Variable?[] Backward(Variable g)
    {
        int a = axis < 0 ? axis + g.Rank : axis;
        var grads = new Variable?[Inputs.Count];
        for (int i = 0; i < grads.Length; i++)
            if (NeedsGrad(i)) grads[i] = g.Select(a, i);
        return grads;
    }
}
