namespace Engine.Functions;

/// <summary>y = x with a new shape (same elements in row-major order).</summary>
/// <remarks>∂L/∂x = g reshaped back to x's shape.</remarks>
internal sealed class Reshape(int[] shape) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Reshape(shape);

    protected override Variable?[] Backward(Variable g) => [g.Reshape(InputShape(0))];
}
