namespace Engine.Functions;

/// <summary>Elementwise z = max(a, b) (or min, for <see cref="Minimum"/>), with broadcasting.</summary>
/// <remarks>
///   ∂L/∂a = g · ([a &gt; b] + ½[a = b])
///   ∂L/∂b = g · ([b &gt; a] + ½[a = b])   (ties split the gradient, as in PyTorch)
/// </remarks>
internal class Maximum : BinaryFunction
{
    protected virtual bool IsMin => false;

    protected override Tensor Forward(Tensor a, Tensor b)
    {
        SaveInputs();
        return IsMin ? a.Minimum(b) : a.Maximum(b);
    }

    protected override Variable?[] Backward(Variable g)
    {
        Tensor a = Saved(0).Data, b = Saved(1).Data, maskA, maskB;
        using (var scope = Tensor.Scope())
        {
            var wins = (IsMin ? a.Lt(b) : a.Gt(b)).To(g.DType);
            var ties = a.Eq(b).To(g.DType) * 0.5;
            maskA = scope.Keep(wins + ties);
            maskB = scope.Keep(1.0 - (wins + ties));
        }
        return [NeedsGrad(0) ? (g * maskA).SumTo(InputShape(0)) : null,
                NeedsGrad(1) ? (g * maskB).SumTo(InputShape(1)) : null];
    }
}

/// <summary>Elementwise z = min(a, b), with broadcasting; ties split the gradient.</summary>
internal sealed class Minimum : Maximum
{
    protected override bool IsMin => true;
}
