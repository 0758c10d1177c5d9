namespace Engine.Functions;

/// <summary>y = -x.</summary>
/// <remarks>∂L/∂x = -g</remarks>
internal sealed class Neg : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Neg();

    protected override Variable?[] Backward(Variable g) => [-g];
}
