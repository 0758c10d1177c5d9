namespace Engine.Functions;

/// <summary>y = x with two dims exchanged.</summary>
/// <remarks>∂L/∂x = g with the same two dims exchanged back.</remarks>
internal sealed class Transpose(int dim0, int dim1) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Transpose(dim0, dim1);

    protected override Variable?[] Backward(Variable g) => [g.Transpose(dim0, dim1)];
}
