namespace Engine.Functions;

/// <summary>Mean squared error ℓ = (a − b)², reduced by the mean, the sum or not at all (a and b broadcast).</summary>
/// <remarks>
///   ∂L/∂a = g · 2(a − b) / n      (n the number of elements for the mean, 1 otherwise)
///   ∂L/∂b = −∂L/∂a               (each summed back to its input's shape)
/// </remarks>
internal sealed class MseLoss(Reduction reduction) : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b)
    {
        SaveInputs();
        using var d = a - b;
        using var sq = d.Square();
        return reduction switch
        {
            Reduction.Sum => sq.Sum(),
            Reduction.None => sq.Clone(),
            _ => sq.Mean(),
        };
    }

    protected override Variable?[] Backward(Variable g)
    {
        var diff = Saved(0) - Saved(1);
        long n = reduction == Reduction.Mean ? diff.Numel : 1;
        var ga = diff * g * (2.0 / Math.Max(n, 1));
        return [NeedsGrad(0) ? ga.SumTo(InputShape(0)) : null,
                NeedsGrad(1) ? (-ga).SumTo(InputShape(1)) : null];
    }
}
