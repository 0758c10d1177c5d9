using System.Globalization;

namespace Engine.Training;

/// <summary>
/// Appends one CSV row per epoch: epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds,
/// samples_per_second. A new run starts the file with its header; a continued run (a second phase) appends.
/// </summary>
public sealed class CsvLog(string path) : ICallback
{
    /// <summary>The file written.</summary>
    public string Path { get; } = path;

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerContext context)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (dir is not null) Directory.CreateDirectory(dir);
        if (context.History.Epochs.Count > 0 && File.Exists(Path)) return;
        File.WriteAllText(Path, "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second\n");
    }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainerContext context, EpochMetrics m)
    {
        string F(double? v) => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        File.AppendAllText(Path, string.Join(",", m.Epoch.ToString(CultureInfo.InvariantCulture), F(m.TrainLoss), F(m.TrainAccuracy),
            F(m.ValLoss), F(m.ValAccuracy), F(m.LearningRate), F(m.Seconds), F(m.SamplesPerSecond)) + "\n");
    }
}

/// <summary>Logs loss, accuracy and learning rate per epoch (and training loss per step) to TensorBoard.</summary>
public sealed class TensorBoardLog(string logDir, int stepEvery = 10) : ICallback
{
    private TensorBoardWriter? _writer;

    /// <summary>The event file, once training began.</summary>
    public string? FilePath => _writer?.FilePath;

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerContext context) => _writer = new TensorBoardWriter(logDir);

    /// <inheritdoc/>
    public void OnBatchEnd(TrainerContext context, long step, double loss)
    {
        if (step % stepEvery == 0) _writer!.AddScalar("loss/train_step", loss, step);
    }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainerContext context, EpochMetrics m)
    {
        _writer!.AddScalar("loss/train", m.TrainLoss, m.Epoch);
        _writer.AddScalar("accuracy/train", m.TrainAccuracy, m.Epoch);
        if (m.ValLoss is { } vl) _writer.AddScalar("loss/validation", vl, m.Epoch);
        if (m.ValAccuracy is { } va) _writer.AddScalar("accuracy/validation", va, m.Epoch);
        _writer.AddScalar("learning_rate", m.LearningRate, m.Epoch);
        _writer.Flush();
    }

    /// <inheritdoc/>
    public void OnTrainEnd(TrainerContext context)
    {
        _writer?.Dispose();
        _writer = null;
    }
}
