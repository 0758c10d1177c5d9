namespace Engine.Optim;

/// <summary>
/// Lowers the learning rates when a metric has stopped improving (PyTorch's <c>ReduceLROnPlateau</c>):
/// call <see cref="Step"/> with the metric after each evaluation.
/// </summary>
/// <remarks>
/// With mode min and relative threshold θ, a metric x is an improvement when x &lt; best·(1 − θ)
/// (absolute: x &lt; best − θ; mode max: x &gt; best·(1 + θ), or x &gt; best + θ). Each step:
/// <code>
///   if improvement:  best ← x;  bad ← 0          else  bad ← bad + 1
///   if cooling down: cooldown ← cooldown − 1;  bad ← 0
///   if bad &gt; patience:
///     lr ← max(lr · factor, min_lr) for each group (unless that changes it by no more than eps)
///     cooldown ← cooldown period;  bad ← 0
/// </code>
/// So with patience 2, the rate drops on the third epoch in a row without improvement. A NaN metric
/// never improves.
/// </remarks>
public sealed class ReduceLROnPlateau
{
    private readonly Optimizer _optimizer;
    private double[] _lastLr;

    /// <summary>Watches a metric and reduces every group's rate of <paramref name="optimizer"/> when it plateaus.</summary>
    /// <param name="optimizer">The optimizer whose rates to lower.</param>
    /// <param name="mode">Whether the metric should fall (<see cref="PlateauMode.Min"/>) or rise.</param>
    /// <param name="factor">The factor in [0, 1) applied to the rates.</param>
    /// <param name="patience">The number of epochs ≥ 0 without improvement tolerated before lowering.</param>
    /// <param name="threshold">The least improvement θ ≥ 0 that counts.</param>
    /// <param name="thresholdMode">Whether θ is relative to the best value or absolute.</param>
    /// <param name="cooldown">The number of epochs ≥ 0 to wait after a reduction before counting bad epochs again.</param>
    /// <param name="minLr">The lowest learning rate ≥ 0 a group is reduced to.</param>
    /// <param name="eps">Reductions smaller than this are skipped.</param>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Relative, int cooldown = 0, double minLr = 0,
        double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        const string op = "ReduceLROnPlateau";
        if (!(factor >= 0 && factor < 1)) throw new EngineException($"{op}: factor {factor}: must be in [0, 1)");
        if (patience < 0) throw new EngineException($"{op}: patience {patience}: must be >= 0");
        if (!(double.IsFinite(threshold) && threshold >= 0)) throw new EngineException($"{op}: threshold {threshold}: must be a finite number >= 0");
        if (cooldown < 0) throw new EngineException($"{op}: cooldown {cooldown}: must be >= 0");
        if (!(double.IsFinite(minLr) && minLr >= 0)) throw new EngineException($"{op}: minLr {minLr}: must be a finite number >= 0");
        if (!(double.IsFinite(eps) && eps >= 0)) throw new EngineException($"{op}: eps {eps}: must be a finite number >= 0");
        if (!Enum.IsDefined(mode)) throw new EngineException($"{op}: mode {mode}: must be Min or Max");
        if (!Enum.IsDefined(thresholdMode)) throw new EngineException($"{op}: thresholdMode {thresholdMode}: must be Relative or Absolute");
        _optimizer = optimizer;
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        ThresholdMode = thresholdMode;
        Cooldown = cooldown;
        MinLr = minLr;
        Eps = eps;
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
        _lastLr = [.. optimizer.ParamGroups.Select(g => g.LearningRate)];
    }

    /// <summary>Whether lower or higher metrics are better.</summary>
    public PlateauMode Mode { get; }

    /// <summary>The factor applied to the rates at each reduction.</summary>
    public double Factor { get; }

    /// <summary>The number of epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>The least improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>Whether <see cref="Threshold"/> is relative or absolute.</summary>
    public ThresholdMode ThresholdMode { get; }

    /// <summary>The number of epochs to wait after a reduction.</summary>
    public int Cooldown { get; }

    /// <summary>The lowest learning rate a group is reduced to.</summary>
    public double MinLr { get; }

    /// <summary>Reductions smaller than this are skipped.</summary>
    public double Eps { get; }

    /// <summary>The best metric so far (±∞ before the first step).</summary>
    public double Best { get; private set; }

    /// <summary>The number of consecutive epochs without improvement (reset by a reduction and during cooldown).</summary>
    public int NumBadEpochs { get; private set; }

    /// <summary>The epochs of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>The number of <see cref="Step"/> calls so far.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>Records this epoch's <paramref name="metric"/> and lowers the rates if it has plateaued.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else NumBadEpochs++;
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            NumBadEpochs = 0;
        }
        if (NumBadEpochs > Patience)
        {
            foreach (var group in _optimizer.ParamGroups)
            {
                double old = group.LearningRate, lowered = Math.Max(old * Factor, MinLr);
                if (old - lowered > Eps) group.LearningRate = lowered;
            }
            CooldownCounter = Cooldown;
            NumBadEpochs = 0;
        }
        _lastLr = [.. _optimizer.ParamGroups.Select(g => g.LearningRate)];
    }

    /// <summary>The groups' learning rates after the last step (or at creation), one per group.</summary>
    public IReadOnlyList<double> GetLastLr() => _lastLr;

    private bool IsBetter(double x) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Relative) => x < Best * (1 - Threshold),
        (PlateauMode.Min, ThresholdMode.Absolute) => x < Best - Threshold,
        (PlateauMode.Max, ThresholdMode.Relative) => x > Best * (1 + Threshold),
        _ => x > Best + Threshold,
    };
}
