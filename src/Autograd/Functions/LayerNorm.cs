namespace Engine.Functions;

/// <summary>
/// Layer normalisation over the last k dims (the normalized shape): per sample,
/// x̂ = (x − μ) / √(σ² + ε) with the (biased) statistics of those dims, and y = γ·x̂ + β.
/// </summary>
/// <remarks>
/// With M elements normalised together and sums over those dims:
///   ∂L/∂x = (1 / (M √(σ² + ε))) · (M·ĝ − Σĝ − x̂·Σ(ĝ·x̂)),  ĝ = g·γ
///   ∂L/∂γ = Σ_batch(g·x̂)        ∂L/∂β = Σ_batch g
/// A recorded backward pass (second-order gradients) writes the same formulas with Variable ops,
/// x̂ and s recomputed from x.
/// </remarks>
internal sealed class LayerNorm(int normalizedDims, double eps) : Function
{
    protected override Tensor Forward(Tensor[] inputs)
    {
        var x = inputs[0];
        int[] axes = [.. Enumerable.Range(x.Rank - normalizedDims, normalizedDims)];
        using var scope = Tensor.Scope();
        var (mean, _, invStd) = Normalization.Statistics(x, axes, eps);
        var xhat = (x - mean) * invStd;
        var y = xhat;
        if (inputs.Length > 1) y = y * inputs[1];
        if (inputs.Length > 2) y = y + inputs[2];
        Keep(scope.Keep(xhat), scope.Keep(invStd));
        SaveInputs(0);
        return scope.Keep(y);
    }

    protected override Variable?[] Backward(Variable g)
    {
        if (GradMode.IsEnabled) return RecordedBackward(g);
        var gt = g.Data;
        var xhat = Kept(0);
        var invStd = Kept(1);
        int rank = gt.Rank;
        int[] axes = [.. Enumerable.Range(rank - normalizedDims, normalizedDims)];
        int[] batch = [.. Enumerable.Range(0, rank - normalizedDims)];
        var grads = new Variable?[Inputs.Count];
        using var scope = Tensor.Scope();
        if (NeedsGrad(0))
        {
            var gh = Inputs.Count > 1 ? gt * Inputs[1].Data : gt;
            grads[0] = new Variable(scope.Keep(Normalization.InputGrad(gh, xhat, invStd, axes)));
        }
        if (Inputs.Count > 1 && NeedsGrad(1)) grads[1] = new Variable(scope.Keep(batch.Length == 0 ? gt * xhat : (gt * xhat).Sum(batch)));
        if (Inputs.Count > 2 && NeedsGrad(2)) grads[2] = new Variable(scope.Keep(batch.Length == 0 ? gt.Clone() : gt.Sum(batch)));
        return grads;
    }

    /// <summary>The backward formulas as recorded ops, for a backward pass that is itself differentiated.</summary>
    private Variable?[] RecordedBackward(Variable g)
    {
        int rank = g.Rank;
        int[] axes = [.. Enumerable.Range(rank - normalizedDims, normalizedDims)];
        int[] batch = [.. Enumerable.Range(0, rank - normalizedDims)];
        var grads = new Variable?[Inputs.Count];
        var (xhat, invStd) = Normalization.Standardize(Saved(0), axes, eps);
        if (NeedsGrad(0)) grads[0] = Normalization.InputGrad(Inputs.Count > 1 ? g * Input(1) : g, xhat, invStd, axes);
        if (Inputs.Count > 1 && NeedsGrad(1)) grads[1] = batch.Length == 0 ? g * xhat : (g * xhat).Sum(batch);
        if (Inputs.Count > 2 && NeedsGrad(2)) grads[2] = batch.Length == 0 ? g : g.Sum(batch);
        return grads;
    }
}
