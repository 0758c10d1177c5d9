namespace Engine.Functions;

/// <summary>y = x^p for a constant exponent p.</summary>
/// <remarks>∂L/∂x = g · p · x^(p-1)</remarks>
internal sealed class PowScalar(double p) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Pow(p);
    }

    protected override Variable?[] Backward(Variable g) =>
        [p == 0 ? g * 0.0 : g * p * (p == 1 ? Variable.OnesLike(Saved(0)) : Saved(0).Pow(p - 1))];
}
