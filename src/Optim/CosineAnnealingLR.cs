namespace Engine.Optim;

/// <summary>Anneals the learning rate from its base to η_min along a half cosine over T_max epochs (PyTorch's <c>CosineAnnealingLR</c>, SGDR without restarts).</summary>
/// <remarks>
/// <code>
///   lr(e) = η_min + (base − η_min) · (1 + cos(π · e / T_max)) / 2
/// </code>
/// lr(0) = base, lr(T_max / 2) = (base + η_min) / 2, lr(T_max) = η_min; past T_max the cosine rises
/// again, as PyTorch's does.
/// </remarks>
public sealed class CosineAnnealingLR : LRScheduler
{
    /// <summary>Anneals every group's rate to <paramref name="etaMin"/> over <paramref name="tMax"/> epochs.</summary>
    /// <param name="optimizer">The optimizer whose rates to set.</param>
    /// <param name="tMax">The number of epochs T_max ≥ 1 of the half cosine.</param>
    /// <param name="etaMin">The final learning rate η_min ≥ 0.</param>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax < 1) throw new EngineException($"CosineAnnealingLR: tMax {tMax}: must be >= 1");
        if (!(double.IsFinite(etaMin) && etaMin >= 0)) throw new EngineException($"CosineAnnealingLR: etaMin {etaMin}: must be a finite number >= 0");
        TMax = tMax;
        EtaMin = etaMin;
        Start();
    }

    /// <summary>The length of the half cosine in epochs.</summary>
    public int TMax { get; }

    /// <summary>The learning rate reached at epoch T_max.</summary>
    public double EtaMin { get; }

    /// <inheritdoc/>
    public override double LearningRateAt(double baseLr, int epoch) =>
        EtaMin + (baseLr - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
}
