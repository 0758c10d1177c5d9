namespace Engine.Functions;

/// <summary>y = x without size-1 dims (all of them, or the given ones).</summary>
/// <remarks>∂L/∂x = g reshaped back to x's shape.</remarks>
internal sealed class Squeeze(int[] dims) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Squeeze(dims);

    protected override Variable?[] Backward(Variable g) => [g.Reshape(InputShape(0))];
}

/// <summary>y = x with a size-1 dim inserted.</summary>
/// <remarks>∂L/∂x = g reshaped back to x's shape.</remarks>
internal sealed class Unsqueeze(int dim) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Unsqueeze(dim);

    protected override Variable?[] Backward(Variable g) => [g.Reshape(InputShape(0))];
}
