namespace Engine.Training;

/// <summary>The numbers of one epoch.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (weighted by batch size).</param>
/// <param name="TrainAccuracy">Training accuracy over the epoch; NaN when the labels are float regression targets.</param>
/// <param name="ValLoss">Validation loss, if a validation set was given.</param>
/// <param name="ValAccuracy">Validation accuracy, if a validation set was given (NaN for regression targets).</param>
/// <param name="LearningRate">The learning rate of the first parameter group at the end of the epoch.</param>
/// <param name="Seconds">Wall time of the epoch (training and validation).</param>
/// <param name="Samples">Training samples seen.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double? ValLoss, double? ValAccuracy,
    double LearningRate, double Seconds, long Samples)
{
    /// <summary>Training throughput.</summary>
    public double SamplesPerSecond => Seconds > 0 ? Samples / Seconds : 0;

    /// <summary>
    /// One line: <c>train loss 0.5123 acc 81.20 % | val loss 0.4871 acc 82.40 % | 3.1 s, 3220/s</c>
    /// (accuracies left out for regression targets, the validation part without a validation set).
    /// </summary>
    public string Describe()
    {
        var line = new System.Text.StringBuilder($"train loss {TrainLoss:F4}");
        if (!double.IsNaN(TrainAccuracy)) line.Append($" acc {TrainAccuracy:P2}");
        if (ValLoss is { } vl)
        {
            line.Append($" | val loss {vl:F4}");
            if (ValAccuracy is { } va && !double.IsNaN(va)) line.Append($" acc {va:P2}");
        }
        return line.Append($" | {Seconds:F1} s, {SamplesPerSecond:F0}/s").ToString();
    }
}

/// <summary>Everything <see cref="Trainer.Fit"/> measured, epoch by epoch.</summary>
public sealed class TrainingHistory
{
    /// <summary>One entry per finished epoch.</summary>
    public List<EpochMetrics> Epochs { get; } = [];

    /// <summary>Optimizer steps taken.</summary>
    public long Steps { get; internal set; }

    /// <summary>Why training stopped early, if it did.</summary>
    public string? StoppedBecause { get; internal set; }
}

/// <summary>Where training is, reported after every batch for progress displays.</summary>
/// <param name="Epoch">1-based epoch of this <see cref="Trainer.Fit"/> call.</param>
/// <param name="Epochs">Epochs planned in this call.</param>
/// <param name="Batch">1-based batch within the epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Running mean loss of the epoch so far.</param>
/// <param name="Accuracy">Running accuracy of the epoch so far (NaN for regression targets).</param>
/// <param name="SamplesPerSecond">Throughput so far in this epoch.</param>
/// <param name="Elapsed">Time since training began.</param>
/// <param name="Remaining">Estimated time to the end of the last epoch.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy,
    double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining);
