namespace Engine.Functions;

/// <summary>y = x in dense row-major memory (the same values).</summary>
/// <remarks>∂L/∂x = g</remarks>
internal sealed class Contiguous : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Contiguous();

    protected override Variable?[] Backward(Variable g) => [g];
}
