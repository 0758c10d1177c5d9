using System.Diagnostics;
using Engine.Data;
using Engine.Distributed;
using Engine.Layers;
using Engine.Optim;

namespace Engine.Training;

/// <summary>A non-finite training loss: training stopped at this step; nothing after it was saved.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>The result of <see cref="Trainer.Evaluate"/>.</summary>
/// <param name="Loss">Mean loss over the samples.</param>
/// <param name="Accuracy">Top-1 accuracy; NaN when the labels are float regression targets.</param>
/// <param name="Top5">Top-5 accuracy (with k = min(5, classes)); NaN for regression targets.</param>
/// <param name="Confusion">counts[label, predicted]; empty for regression targets.</param>
/// <param name="Samples">How many samples.</param>
public sealed record Evaluation(double Loss, double Accuracy, double Top5, long[,] Confusion, long Samples)
{
    /// <summary>Accuracy per class (recall).</summary>
    public double[] PerClassAccuracy => Metrics.PerClassAccuracy(Confusion);
}

/// <summary>
/// The training loop people know from Keras' <c>fit</c>: epochs of mini-batches (forward, loss,
/// backward, optimizer step), validation after each epoch, metrics, callbacks and progress reports.
/// Each step runs inside a tensor scope, so its intermediates are freed as soon as it ends.
/// </summary>
/// <remarks>
/// Integer labels are class indices: accuracy, top-5 and the confusion matrix are computed. Float
/// labels are regression targets (a <see cref="TensorDataset"/> of float [N] or [N, k] targets, with
/// <c>MSELoss</c> or <c>HuberLoss</c>): they must have the model outputs' shape, are cast to the outputs'
/// dtype, and the accuracies are NaN.
/// </remarks>
public static class Trainer
{
    /// <summary>The tensor on <paramref name="device"/>: itself, or a copy there (batches come from the loader on the CPU).</summary>
    private static Tensor OnDevice(Tensor t, Device device) => t.Device == device ? t : t.To(device);

    /// <summary>
    /// Class labels as they are; float regression targets checked against the outputs' shape (a loss
    /// would broadcast [B] against [B, 1] without a word) and cast to the outputs' dtype.
    /// </summary>
    private static Tensor Targets(string op, Tensor outputs, Tensor labels)
    {
        if (labels.DType.IsInteger()) return labels;
        if (!outputs.Shape.SequenceEqual(labels.Shape))
            throw Errors.ShapeError(op, outputs.Shape, labels.Shape,
                "float targets must have the shape of the model's outputs (the loss would broadcast them); give the dataset targets [N, k] for k outputs");
        return labels.DType == outputs.DType ? labels : labels.To(outputs.DType);
    }

    /// <summary>
    /// Trains <paramref name="model"/> for <paramref name="epochs"/> epochs and returns what happened, epoch
    /// by epoch. Given an earlier <paramref name="history"/> (a fine-tuning run's first phase), training
    /// continues it: epochs are numbered on from its last, steps count on, the loader shuffles as for
    /// those epochs, and the new epochs are appended to it. Like Keras's <c>fit</c>, it prints a line per
    /// epoch to the console (<see cref="EpochMetrics.Describe"/>) unless <paramref name="verbose"/> is false
    /// or a <paramref name="progress"/> receiver shows progress its own way.
    /// </summary>
    /// <exception cref="NonFiniteLossException">the loss became NaN or infinite (names the step).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was signalled: the step under way finished, no other began.</exception>
    public static TrainingHistory Fit(Module model, Loss loss, Optimizer optimizer, DataLoader train, int epochs,
        DataLoader? validation = null, IReadOnlyList<ICallback>? callbacks = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default, TrainingHistory? history = null, bool verbose = true,
        DistributedDataParallel? distributed = null)
    {
        if (epochs < 1) throw new EngineException($"Trainer.Fit: epochs {epochs} must be at least 1");
        var group = distributed?.Group;
        // Keras's default: a line per epoch, unless the caller shows progress its own way or asks for quiet (and one process speaks for a job)
        var log = verbose && progress is null && (group is null || group.Rank == 0) ? Console.Out : null;
        history ??= new TrainingHistory();
        int first = history.Epochs.Count;
        var device = model.Device;
        var context = new TrainerContext(model, optimizer, history) { Step = history.Steps };
        callbacks ??= [];
        foreach (var c in callbacks) c.OnTrainBegin(context);
        var total = Stopwatch.StartNew();
        try
        {
            for (int run = 1; run <= epochs; run++)
            {
                int epoch = first + run;
                var clock = Stopwatch.StartNew();
                model.Train();
                double lossSum = 0;
                long correct = 0, seen = 0;
                bool classes = true;
                int batches = train.BatchCount, b = 0;
                foreach (var batch in train.Batches(epoch - 1))
                {
                    cancellation.ThrowIfCancellationRequested();
                    using (batch)
                    using (Tensor.Scope())
                    {
                        optimizer.ZeroGrad();
                        var (inputs, labels) = (OnDevice(batch.Inputs, device), OnDevice(batch.Labels, device));
                        var logits = model.Call(new Variable(inputs));
                        labels = Targets("Trainer.Fit", logits.Data, labels);
                        var l = loss.Call(logits, new Variable(labels));
                        double value = l.Data.Item<double>();
                        if (!double.IsFinite(value))
                            throw new NonFiniteLossException($"the training loss became {value} at step {context.Step + 1} (epoch {epoch}, batch {b + 1}); " +
                                "nothing after the last good epoch was saved; try a lower learning rate (for example a tenth of the current " +
                                $"{optimizer.ParamGroups[0].LearningRate:G3}) or gradient clipping");
                        l.Backward();
                        distributed?.SynchronizeGradients();   // every process now holds the mean gradient
                        optimizer.Step();
                        context.Step++;
                        history.Steps = context.Step;
                        lossSum += value * batch.Count;
                        classes &= labels.DType.IsInteger();
                        if (classes) correct += Metrics.CorrectTopK(logits.Data, labels);
                        seen += batch.Count;
                    }
                    b++;
                    foreach (var c in callbacks) c.OnBatchEnd(context, context.Step, lossSum / seen);
                    if (progress is not null)
                    {
                        double done = (run - 1 + (double)b / batches) / epochs;
                        var remaining = TimeSpan.FromSeconds(total.Elapsed.TotalSeconds * (1 - done) / Math.Max(done, 1e-9));
                        progress.Report(new TrainingProgress(run, epochs, b, batches, lossSum / seen, classes ? (double)correct / seen : double.NaN,
                            seen / clock.Elapsed.TotalSeconds, total.Elapsed, remaining));
                    }
                }
                if (group is { Size: > 1 })
                {
                    // the epoch's numbers over every process's shard
                    Span<double> sums = [lossSum, correct, seen];
                    group.AllReduce(sums);
                    (lossSum, correct, seen) = (sums[0], (long)sums[1], (long)sums[2]);
                }
                double trainSeconds = clock.Elapsed.TotalSeconds;
                Evaluation? val = validation is null ? null : Evaluate(model, loss, validation, group);
                double accuracy = classes ? (double)correct / Math.Max(seen, 1) : double.NaN;
                var metrics = new EpochMetrics(epoch, lossSum / Math.Max(seen, 1), accuracy, val?.Loss, val?.Accuracy,
                    optimizer.ParamGroups[0].LearningRate, trainSeconds, seen);
                history.Epochs.Add(metrics);
                log?.WriteLine($"epoch {epoch}/{first + epochs}: {metrics.Describe()}");
                foreach (var c in callbacks) c.OnEpochEnd(context, metrics);
                if (context.StopRequested is { } why)
                {
                    history.StoppedBecause = why;
                    break;
                }
            }
        }
        finally
        {
            foreach (var c in callbacks) c.OnTrainEnd(context);
        }
        return history;
    }

    /// <summary>
    /// Loss, accuracy, top-5 accuracy and the confusion matrix over a dataset, in evaluation mode without
    /// recording (the loss alone for regression targets). With a <paramref name="group"/>, each process
    /// evaluates its shard (a loader with <see cref="DataLoader.Shard"/>) and the sums are combined, so every
    /// process gets the numbers of the whole dataset.
    /// </summary>
    public static Evaluation Evaluate(Module model, Loss loss, DataLoader data, ProcessGroup? group = null)
    {
        bool wasTraining = model.IsTraining;
        var device = model.Device;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            double lossSum = 0;
            long correct = 0, top5 = 0, seen = 0;
            bool classes = true;
            long[,]? confusion = null;
            foreach (var batch in data.Batches(0))
                using (batch)
                using (Tensor.Scope())
                {
                    var (inputs, labels) = (OnDevice(batch.Inputs, device), OnDevice(batch.Labels, device));
                    var logits = model.Call(new Variable(inputs)).Data;
                    labels = Targets("Trainer.Evaluate", logits, labels);
                    lossSum += loss.Call(logits, new Variable(labels)).Data.Item<double>() * batch.Count;
                    seen += batch.Count;
                    classes &= labels.DType.IsInteger();
                    if (!classes) continue;
                    confusion ??= new long[logits.Size(1), logits.Size(1)];
                    correct += Metrics.CorrectTopK(logits, labels);
                    top5 += Metrics.CorrectTopK(logits, labels, Math.Min(5, logits.Size(1)));
                    Metrics.AddToConfusion(confusion, logits, labels);
                }
            if (group is { Size: > 1 })
            {
                Span<double> sums = [lossSum, correct, top5, seen, classes ? 1 : 0, confusion?.GetLength(0) ?? 0];
                group.AllReduce(sums);
                (lossSum, correct, top5, seen) = (sums[0], (long)sums[1], (long)sums[2], (long)sums[3]);
                classes = sums[4] == group.Size;
                int n = (int)(sums[5] / group.Size);
                if (classes && n > 0)
                {
                    confusion ??= new long[n, n];
                    var flat = new long[n * n];
                    Buffer.BlockCopy(confusion, 0, flat, 0, flat.Length * sizeof(long));
                    group.AllReduce(flat.AsSpan());
                    Buffer.BlockCopy(flat, 0, confusion, 0, flat.Length * sizeof(long));
                }
            }
            double Rate(long hits) => classes ? (double)hits / Math.Max(seen, 1) : double.NaN;
            return new Evaluation(lossSum / Math.Max(seen, 1), Rate(correct), Rate(top5), classes ? confusion ?? new long[0, 0] : new long[0, 0], seen);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// The model's raw outputs (logits for a classifier, values for a regression) for a batch of inputs,
    /// in evaluation mode without recording, on the inputs' device. For class probabilities use
    /// <see cref="PredictProbabilities"/>.
    /// </summary>
    public static Tensor Predict(Module model, Tensor inputs) => PredictCore(model, inputs, softmax: false);

    /// <summary>Class probabilities, the softmax of the model's outputs over the last axis, for a batch of inputs, in evaluation mode.</summary>
    public static Tensor PredictProbabilities(Module model, Tensor inputs) => PredictCore(model, inputs, softmax: true);

    private static Tensor PredictCore(Module model, Tensor inputs, bool softmax)
    {
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using var noGrad = GradMode.NoGrad();
            using var scope = Tensor.Scope();
            var outputs = model.Call(new Variable(OnDevice(inputs, model.Device))).Data;
            if (softmax) outputs = outputs.Softmax(-1);
            return scope.Keep(OnDevice(outputs, inputs.Device));
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}
