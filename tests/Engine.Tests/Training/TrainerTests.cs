using System.Buffers.Binary;
using Engine.Data;
using Engine.Layers;
using Engine.Plots;
using Engine.Optim;
using Engine.Training;
using Engine.Training.TensorBoardProto;

namespace Engine.Tests;

/// <summary>The training loop, its callbacks and logs, on small slices of the embedded data.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "engine-train-" + Guid.NewGuid().ToString("N"));

    public TrainerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (Subset Train, Subset Val) Slices()
    {
        var all = FashionMnist.LoadTrain();
        return (new Subset(all, [.. Enumerable.Range(0, 512)]), new Subset(all, [.. Enumerable.Range(9000, 256)]));
    }

    private static float[] TrainOnce(ulong seed)
    {
        var (train, val) = Slices();
        var model = Models.Mlp(generator: new Generator(seed));
        using var opt = new SGD(model.Parameters(), lr: 0.05, momentum: 0.9);
        Trainer.Fit(model, new CrossEntropyLoss(), opt, new DataLoader(train, 64, shuffle: true, seed: seed), 2,
            new DataLoader(val, 128));
        return model.Parameters().SelectMany(p => p.Data.ToArray<float>()).ToArray();
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_weights()
    {
        var a = TrainOnce(7);
        var b = TrainOnce(7);
        var c = TrainOnce(8);
        Assert.Equal(a, b);                     // exact, element by element
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Fit_learns_and_reports_history_progress_and_logs()
    {
        var (train, val) = Slices();
        var model = Models.LeNet(generator: new Generator(1));
        using var opt = new Adam(model.Parameters(), lr: 3e-3);
        var reports = new List<TrainingProgress>();
        var csv = Path.Combine(_dir, "metrics.csv");
        var tb = new TensorBoardLog(Path.Combine(_dir, "tb"), stepEvery: 1);
        var history = Trainer.Fit(model, new CrossEntropyLoss(), opt, new DataLoader(train, 32, shuffle: true, seed: 1), 3,
            new DataLoader(val, 128), [new CsvLog(csv), tb], new SyncProgress(reports.Add));
        Assert.Equal(3, history.Epochs.Count);
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss);
        Assert.True(history.Epochs[^1].ValAccuracy > 0.5, $"validation accuracy {history.Epochs[^1].ValAccuracy}");
        Assert.Equal(3 * 16, reports.Count);
        Assert.Equal((3, 16, 16), (reports[^1].Epoch, reports[^1].Batch, reports[^1].Batches));
        var lines = File.ReadAllLines(csv);
        Assert.Equal("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("3,", lines[3]);
        var events = ReadEvents(Directory.GetFiles(Path.Combine(_dir, "tb"))[0]);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Contains(events, e => e.Summary?.Value.Any(v => v.Tag == "accuracy/validation" && e.Step == 3) == true);
        Assert.Equal(48, events.Count(e => e.Summary?.Value.Any(v => v.Tag == "loss/train_step") == true));
        var png = Path.Combine(_dir, "curves.png");
        CurvePlot.Save(history, png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
    }

    /// <summary>Reads a TFRecord file record by record, checking both masked CRC-32C checksums of each.</summary>
    internal static List<Event> ReadEvents(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            Assert.Equal(TensorBoardWriter.MaskedCrc32C(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            var data = bytes.AsSpan(at + 12, (int)length);
            Assert.Equal(TensorBoardWriter.MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length)));
            events.Add(Event.Parser.ParseFrom(data));
            at += 12 + (int)length + 4;
        }
        return events;
    }

    [Fact]
    public void Crc32c_matches_the_published_check_value()
    {
        // CRC-32C of the ASCII digits "123456789" is 0xE3069283 (the standard check value)
        Assert.Equal(0xE3069283u, TensorBoardWriter.Crc32C("123456789"u8));
    }

    [Fact]
    public void Early_stopping_and_best_checkpoint()
    {
        var (train, val) = Slices();
        var model = Models.Mlp(generator: new Generator(2));
        using var opt = new SGD(model.Parameters(), lr: 0.0);          // nothing improves
        var path = Path.Combine(_dir, "best.safetensors");
        var checkpoint = new ModelCheckpoint(path, Monitored.ValLoss);
        var history = Trainer.Fit(model, new CrossEntropyLoss(), opt, new DataLoader(train, 128), 10, new DataLoader(val, 128),
            [new EarlyStopping(Monitored.ValLoss, patience: 2), checkpoint]);
        Assert.Equal(3, history.Epochs.Count);
        Assert.Contains("early stopping", history.StoppedBecause);
        Assert.Equal(1, checkpoint.SavedEpoch);
        var copy = Models.Mlp(generator: new Generator(3));
        Checkpoint.Load(path, copy);
        Assert.Equal(model.StateDict()["1.weight"].ToArray<float>(), copy.StateDict()["1.weight"].ToArray<float>());
        Assert.Equal("1", SafeTensors.ReadMetadata(path)["epoch"]);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint()
    {
        var (train, val) = Slices();
        var model = Models.Mlp(generator: new Generator(4));
        using var opt = new SGD(model.Parameters(), lr: 1e9);          // diverges within a few steps
        var path = Path.Combine(_dir, "best.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["marker"] = Tensor.Ones(1) });
        var before = File.ReadAllBytes(path);
        var ex = Assert.Throws<NonFiniteLossException>(() => Trainer.Fit(model, new CrossEntropyLoss(), opt,
            new DataLoader(train, 64), 2, new DataLoader(val, 128), [new ModelCheckpoint(path)]));
        Assert.Contains("at step", ex.Message);
        Assert.Contains("lower learning rate", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Evaluate_and_predict()
    {
        var (_, val) = Slices();
        var model = Models.Mlp(generator: new Generator(5));
        var e = Trainer.Evaluate(model, new CrossEntropyLoss(), new DataLoader(val, 100));
        Assert.Equal(256, e.Samples);
        Assert.Equal(256, Enumerable.Range(0, 10).Sum(i => Enumerable.Range(0, 10).Sum(j => e.Confusion[i, j])));
        Assert.InRange(e.Accuracy, 0, 1);
        Assert.True(e.Top5 >= e.Accuracy);
        using var batch = val.GetBatch([0, 1, 2]);
        using var p = Trainer.PredictProbabilities(model, batch.Inputs);
        Assert.All(RefArray.Of(p.Sum(1)).Data, s => Assert.Equal(1, s, 5));
        using var logits = Trainer.Predict(model, batch.Inputs);
        Check.Equal(RefArray.Of(p), logits.Softmax(-1), "softmax of Predict");
        Assert.True(model.IsTraining);
    }

    [Fact]
    public void A_linear_regression_trains_through_fit_with_mse_and_predict_returns_raw_values()
    {
        // y = 2x + 1 at 32 points x in [-1, 1], noise free: the loss can reach 0 (all batches share the minimum).
        // Plain SGD with lr 0.1 on the mean squared error has the Hessian 2·[[E x², E x], [E x, 1]] ≈ 2·[[0.36, 0], [0, 1]],
        // so each step shrinks the slope error by at least 1 − 0.1·0.72 ≈ 0.93 and the intercept's by 0.8: over
        // 60 epochs of 4 batches (240 steps) an initial loss of order 1 falls by 0.93²⁴⁰ ≈ 3e-8, and with float32
        // rounding the last epoch's loss is far below 1e-4.
        var x = Enumerable.Range(0, 32).Select(i => -1 + 2f * i / 31).ToArray();
        using var data = new TensorDataset(Tensor.FromArray(x, 32, 1), Tensor.FromArray(x.Select(v => 2 * v + 1).ToArray(), 32, 1));
        var model = new Linear(1, 1, generator: new Generator(3));
        using var opt = new SGD(model.Parameters(), lr: 0.1);
        var history = Trainer.Fit(model, new MSELoss(), opt, new DataLoader(data, 8, shuffle: true, seed: 1), 60, new DataLoader(data, 32));
        Assert.True(history.Epochs[^1].TrainLoss < 1e-4, $"last training loss {history.Epochs[^1].TrainLoss}");
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss / 100);
        Assert.True(double.IsNaN(history.Epochs[^1].TrainAccuracy));
        Assert.True(history.Epochs[^1].ValLoss < 1e-4);
        Assert.True(double.IsNaN(history.Epochs[^1].ValAccuracy!.Value));
        using var scope = Tensor.Scope();
        var y = Trainer.Predict(model, Tensor.FromArray(new float[] { 0, 0.5f, 3 }, 3, 1));
        Assert.Equal(new[] { 3, 1 }, y.Shape.ToArray());
        var values = y.ToArray<float>();
        Assert.Equal(1, values[0], 2);
        Assert.Equal(2, values[1], 2);
        Assert.Equal(7, values[2], 2);
        var e = Trainer.Evaluate(model, new HuberLoss(), new DataLoader(data, 16));
        Assert.True(e.Loss < 1e-4 && double.IsNaN(e.Accuracy) && double.IsNaN(e.Top5) && e.Confusion.Length == 0);
    }

    [Fact]
    public void Float_targets_of_another_shape_than_the_outputs_are_refused_by_fit()
    {
        // a one-output model gives [B, 1]; targets [B] would broadcast to [B, B] inside MSELoss
        using var data = new TensorDataset(Tensor.Zeros(4, 1), Tensor.Zeros(4));
        var model = new Linear(1, 1, generator: new Generator(3));
        using var opt = new SGD(model.Parameters(), lr: 0.1);
        var ex = Assert.Throws<ShapeException>(() => Trainer.Fit(model, new MSELoss(), opt, new DataLoader(data, 4), 1));
        Assert.Contains("Trainer.Fit: [4, 1] x [4]", ex.Message);
        Assert.Contains("shape of the model's outputs", ex.Message);
    }

    [Fact]
    public void Metrics_count_top_k_hits_and_per_class_accuracy()
    {
        using var scope = Tensor.Scope();
        var logits = Tensor.FromArray(new float[,] { { 0.1f, 0.7f, 0.2f }, { 0.5f, 0.3f, 0.2f }, { 0.1f, 0.2f, 0.7f } });
        var labels = Tensor.FromArray(new long[] { 1, 1, 0 });
        Assert.Equal(1, Metrics.CorrectTopK(logits, labels));
        Assert.Equal(2, Metrics.CorrectTopK(logits, labels, 2));
        var confusion = new long[3, 3];
        Metrics.AddToConfusion(confusion, logits, labels);
        Assert.Equal(new[] { 0.0, 0.5, double.NaN }, Metrics.PerClassAccuracy(confusion));
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
