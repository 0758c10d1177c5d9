namespace Engine.Optim;

/// <summary>Limits gradients before an optimizer step (PyTorch's <c>clip_grad_norm_</c> and <c>clip_grad_value_</c>).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their norm, taken over all
    /// of them together as if concatenated into one vector, is at most <paramref name="maxNorm"/>; returns
    /// the norm before clipping. Parameters without a gradient are ignored.
    /// </summary>
    /// <remarks>
    /// <code>
    ///   total = (Σ over parameters Σ over elements |g|ᵖ)^(1/p)      (p = ∞: max |g|)
    ///   if total &gt; maxNorm:  g ← g · maxNorm / (total + 1e-6)     for every gradient
    /// </code>
    /// The 1e-6 keeps the division finite, as in PyTorch, so the clipped norm lands just under maxNorm.
    /// </remarks>
    /// <param name="parameters">The parameters whose gradients to clip.</param>
    /// <param name="maxNorm">The largest norm allowed, ≥ 0.</param>
    /// <param name="normType">The p of the p-norm, &gt; 0, or <see cref="double.PositiveInfinity"/> for the largest magnitude.</param>
    /// <param name="errorIfNonfinite">Throw instead of clipping when the total norm is NaN or infinite.</param>
    /// <exception cref="EngineException">A negative or NaN <paramref name="maxNorm"/>, a <paramref name="normType"/> ≤ 0, or a non-finite norm with <paramref name="errorIfNonfinite"/>.</exception>
    public static double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        const string op = "ClipGradNorm";
        if (!(maxNorm >= 0)) throw new EngineException($"{op}: maxNorm {maxNorm}: must be >= 0");
        if (!(normType > 0)) throw new EngineException($"{op}: normType {normType}: must be > 0 (or infinity)");
        var grads = Gradients(parameters);
        double total = 0;
        using (Tensor.Scope())
        {
            foreach (var g in grads)
            {
                if (g.Numel == 0) continue;
                if (double.IsPositiveInfinity(normType)) total = Math.Max(total, g.Abs().Max().Item<double>());
                else if (normType == 1) total += g.Abs().Sum().Item<double>();
                else if (normType == 2) total += g.Square().Sum().Item<double>();
                else total += g.Abs().Pow(normType).Sum().Item<double>();
            }
        }
        if (!double.IsPositiveInfinity(normType) && normType != 1)
            total = normType == 2 ? Math.Sqrt(total) : Math.Pow(total, 1 / normType);
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new EngineException($"{op}: the total {normType}-norm of the gradients is {total}; pass errorIfNonfinite: false to clip anyway");
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1)
            foreach (var g in grads) g.MulInPlace(coef);
        return total;
    }

    /// <summary>
    /// Clamps every gradient element of <paramref name="parameters"/> into [−clipValue, clipValue], in
    /// place. Parameters without a gradient are ignored.
    /// </summary>
    /// <param name="parameters">The parameters whose gradients to clip.</param>
    /// <param name="clipValue">The largest magnitude allowed, ≥ 0.</param>
    /// <exception cref="EngineException">A negative or NaN <paramref name="clipValue"/>.</exception>
    public static void ClipGradValue(IEnumerable<Parameter> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0)) throw new EngineException($"ClipGradValue: clipValue {clipValue}: must be >= 0");
        foreach (var g in Gradients(parameters))
            using (Tensor.Scope())
                g.CopyFrom(g.Clamp(-clipValue, clipValue));
    }

    private static List<Tensor> Gradients(IEnumerable<Parameter> parameters) =>
        [.. parameters.Where(p => p is not null && p.Grad is not null).Select(p => p.Grad!.Data)];
}
