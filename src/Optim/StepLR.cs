namespace Engine.Optim;

/// <summary>Multiplies the learning rate by γ every <c>stepSize</c> epochs (PyTorch's <c>StepLR</c>).</summary>
/// <remarks>
/// <code>
///   lr(e) = base · γ^⌊e / stepSize⌋
/// </code>
/// For example base 0.1, stepSize 2, γ 0.5: 0.1, 0.1, 0.05, 0.05, 0.025, …
/// </remarks>
public sealed class StepLR : LRScheduler
{
    /// <summary>Decays every group's rate by <paramref name="gamma"/> each <paramref name="stepSize"/> epochs.</summary>
    /// <param name="optimizer">The optimizer whose rates to set.</param>
    /// <param name="stepSize">The period in epochs, ≥ 1.</param>
    /// <param name="gamma">The factor γ ≥ 0 applied at each period.</param>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize < 1) throw new EngineException($"StepLR: stepSize {stepSize}: must be >= 1");
        if (!(double.IsFinite(gamma) && gamma >= 0)) throw new EngineException($"StepLR: gamma {gamma}: must be a finite number >= 0");
        StepSize = stepSize;
        Gamma = gamma;
        Start();
    }

    /// <summary>The period in epochs.</summary>
    public int StepSize { get; }

    /// <summary>The factor applied at each period.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override double LearningRateAt(double baseLr, int epoch) => baseLr * Math.Pow(Gamma, epoch / StepSize);
}
