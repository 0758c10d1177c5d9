namespace Engine.Functions;

/// <summary>Elementwise power z = a^b with a tensor exponent, with broadcasting.</summary>
/// <remarks>
///   ∂L/∂a = g · b · a^(b-1)
///   ∂L/∂b = g · z · ln a      (defined for a &gt; 0)
/// </remarks>
internal sealed class Pow : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b)
    {
        SaveInputs();
        SaveResult();
        return a.Pow(b);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var a = Saved(0);
        var b = Saved(1);
        return [NeedsGrad(0) ? (g * b * a.Pow(b - 1.0)).SumTo(InputShape(0)) : null,
                NeedsGrad(1) ? (g * Result * a.Log()).SumTo(InputShape(1)) : null];
    }
}
