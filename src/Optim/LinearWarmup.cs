namespace Engine.Optim;

/// <summary>
/// Raises the learning rate linearly from a fraction of its base over the first epochs or steps, then
/// holds the base rate or hands over to another scheduler (PyTorch's <c>LinearLR</c>, and
/// <c>SequentialLR</c> when followed by another).
/// </summary>
/// <remarks>
/// With W warm-up steps, start factor f and base rate b:
/// <code>
///   lr(e) = b · (f + (1 − f) · e / W)      for e &lt; W
///   lr(e) = b                              for e ≥ W, when nothing follows
///   lr(e) = next.LearningRateAt(b, e − W)  for e ≥ W, when <c>next</c> follows
/// </code>
/// For example b = 0.1, W = 4, f = 0.2: 0.02, 0.04, 0.06, 0.08, then 0.1. To follow with cosine
/// annealing, create the cosine scheduler first, pass it as <c>then</c>, and step only the warm-up:
/// <code>
///   var cosine = new CosineAnnealingLR(optimizer, tMax: 90);
///   var schedule = new LinearWarmup(optimizer, warmupSteps: 10, startFactor: 0.1, then: cosine);
/// </code>
/// </remarks>
public sealed class LinearWarmup : LRScheduler
{
    /// <summary>Warms every group's rate up over <paramref name="warmupSteps"/> steps from <paramref name="startFactor"/> times its base.</summary>
    /// <param name="optimizer">The optimizer whose rates to set.</param>
    /// <param name="warmupSteps">The number W ≥ 1 of warm-up steps (or epochs).</param>
    /// <param name="startFactor">The fraction f ∈ (0, 1] of the base rate at step 0 (PyTorch's default 1/3).</param>
    /// <param name="then">The scheduler that takes over after the warm-up (on the same optimizer; its base rates are used), or null to hold the base rate.</param>
    public LinearWarmup(Optimizer optimizer, int warmupSteps, double startFactor = 1.0 / 3, LRScheduler? then = null)
        : base(optimizer, then?.BaseLrs)
    {
        if (warmupSteps < 1) throw new EngineException($"LinearWarmup: warmupSteps {warmupSteps}: must be >= 1");
        if (!(startFactor > 0 && startFactor <= 1)) throw new EngineException($"LinearWarmup: startFactor {startFactor}: must be in (0, 1]");
        if (then is not null && !ReferenceEquals(then.Optimizer, optimizer))
            throw new EngineException("LinearWarmup: the scheduler to hand over to drives another optimizer");
        WarmupSteps = warmupSteps;
        StartFactor = startFactor;
        Then = then;
        Start();
    }

    /// <summary>The number of warm-up steps.</summary>
    public int WarmupSteps { get; }

    /// <summary>The fraction of the base rate at step 0.</summary>
    public double StartFactor { get; }

    /// <summary>The scheduler that takes over after the warm-up, or null.</summary>
    public LRScheduler? Then { get; }

    /// <inheritdoc/>
    public override double LearningRateAt(double baseLr, int epoch)
    {
        if (epoch < WarmupSteps) return baseLr * (StartFactor + (1 - StartFactor) * epoch / WarmupSteps);
        return Then is null ? baseLr : Then.LearningRateAt(baseLr, epoch - WarmupSteps);
    }
}
