using Engine.Layers;
using Engine.Optim;

namespace Engine.Training;

/// <summary>What a callback sees of the training run.</summary>
public sealed class TrainerContext(Module model, Optimizer optimizer, TrainingHistory history)
{
    /// <summary>The model being trained.</summary>
    public Module Model { get; } = model;
    /// <summary>Its optimizer.</summary>
    public Optimizer Optimizer { get; } = optimizer;
    /// <summary>The epochs so far.</summary>
    public TrainingHistory History { get; } = history;
    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; internal set; }
    /// <summary>Set by a callback to end training after the current epoch; the reason is recorded.</summary>
    public string? StopRequested { get; set; }
}

/// <summary>Hooks into <see cref="Trainer.Fit"/> (all optional), in the spirit of Keras callbacks.</summary>
public interface ICallback
{
    /// <summary>Before the first epoch.</summary>
    void OnTrainBegin(TrainerContext context) { }
    /// <summary>After each optimizer step.</summary>
    void OnBatchEnd(TrainerContext context, long step, double loss) { }
    /// <summary>After each epoch's training and validation.</summary>
    void OnEpochEnd(TrainerContext context, EpochMetrics metrics) { }
    /// <summary>After the last epoch (also when stopped early).</summary>
    void OnTrainEnd(TrainerContext context) { }
}

/// <summary>The quantity a callback watches.</summary>
public enum Monitored
{
    /// <summary>Validation loss (lower is better); training loss without a validation set.</summary>
    ValLoss,
    /// <summary>Validation accuracy (higher is better); training accuracy without a validation set.</summary>
    ValAccuracy,
}

internal static class Monitoring
{
    public static double Value(EpochMetrics m, Monitored monitor) => monitor == Monitored.ValLoss ? m.ValLoss ?? m.TrainLoss : m.ValAccuracy ?? m.TrainAccuracy;

    public static bool Improved(double value, double best, Monitored monitor, double minDelta) =>
        double.IsNaN(best) || (monitor == Monitored.ValLoss ? value < best - minDelta : value > best + minDelta);
}

/// <summary>Stops when the monitored value has not improved by at least minDelta for <paramref name="patience"/> epochs.</summary>
public sealed class EarlyStopping(Monitored monitor = Monitored.ValLoss, int patience = 3, double minDelta = 0) : ICallback
{
    private double _best = double.NaN;
    private int _bad;

    /// <inheritdoc/>
    public void OnEpochEnd(TrainerContext context, EpochMetrics metrics)
    {
        double v = Monitoring.Value(metrics, monitor);
        if (Monitoring.Improved(v, _best, monitor, minDelta)) { _best = v; _bad = 0; return; }
        if (++_bad >= patience)
            context.StopRequested = $"early stopping: {monitor} did not improve for {patience} epochs (best {_best:G4})";
    }
}

/// <summary>
/// Saves the model (and the optimizer's state) to a safetensors file whenever the monitored value
/// improves, or after every epoch. Writes are atomic, so a crash never leaves a half-written file.
/// </summary>
public sealed class ModelCheckpoint(string path, Monitored monitor = Monitored.ValLoss, bool saveBestOnly = true) : ICallback
{
    private double _best = double.NaN;

    /// <summary>The checkpoint file.</summary>
    public string Path { get; } = path;

    /// <summary>The epoch of the last save, or 0.</summary>
    public int SavedEpoch { get; private set; }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainerContext context, EpochMetrics metrics)
    {
        double v = Monitoring.Value(metrics, monitor);
        if (saveBestOnly && !Monitoring.Improved(v, _best, monitor, 0)) return;
        _best = v;
        Checkpoint.Save(Path, context.Model, context.Optimizer, new Dictionary<string, string>
        {
            ["epoch"] = metrics.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["monitor"] = monitor.ToString(),
            ["value"] = v.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        });
        SavedEpoch = metrics.Epoch;
    }
}

/// <summary>Runs an action after every epoch (for example a learning-rate scheduler's step).</summary>
public sealed class EpochAction(Action<TrainerContext, EpochMetrics> action) : ICallback
{
    /// <inheritdoc/>
    public void OnEpochEnd(TrainerContext context, EpochMetrics metrics) => action(context, metrics);
}

/// <summary>Runs an action after every optimizer step (for example a per-step learning-rate schedule).</summary>
public sealed class BatchAction(Action<TrainerContext, long> action) : ICallback
{
    /// <inheritdoc/>
    public void OnBatchEnd(TrainerContext context, long step, double loss) => action(context, step);
}

/// <summary>Model and optimizer state in one safetensors file: keys <c>model.*</c> and <c>optimizer.*</c>.</summary>
public static class Checkpoint
{
    /// <summary>Saves both atomically.</summary>
    public static void Save(string path, Module model, Optimizer? optimizer, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var all = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.StateDict()) all["model." + k] = v;
        if (optimizer is not null)
            foreach (var (k, v) in optimizer.StateDict()) all["optimizer." + k] = v;
        SafeTensors.Save(path, all, metadata);
    }

    /// <summary>Loads the model's part (and the optimizer's, when given) from a file written by <see cref="Save"/>.</summary>
    public static void Load(string path, Module model, Optimizer? optimizer = null, bool strict = true)
    {
        var all = SafeTensors.Load(path);
        try
        {
            var modelState = all.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value);
            model.LoadStateDict(modelState, strict);
            if (optimizer is not null)
                optimizer.LoadStateDict(all.Where(kv => kv.Key.StartsWith("optimizer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["optimizer.".Length..], kv => kv.Value));
        }
        finally
        {
            foreach (var t in all.Values) t.Dispose();
        }
    }
}
