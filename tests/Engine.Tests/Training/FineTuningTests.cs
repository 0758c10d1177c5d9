using Engine.Data;
using Engine.Layers;
using Engine.Onnx;
using Engine.Training;

namespace Engine.Tests;

/// <summary>The two-phase fine-tuning recipe: which weights and statistics each phase trains, one history across both, a clean stop.</summary>
public sealed class FineTuningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-finetuning-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A two-stage ONNX backbone (conv/bn/relu at 16×16, then at 4×4) cut from a small classifier.</summary>
    private OnnxModel Backbone()
    {
        var g = new Generator(21);
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, stride: 2, padding: 1, generator: g), new BatchNorm2d(16), new ReLU(),
            new GlobalAvgPool2d(), new Flatten(), new Linear(16, 10, generator: g));
        model.Eval();
        string path = Path.Combine(_dir, $"backbone-{Guid.NewGuid():N}.onnx");
        OnnxExport.Save(model, [3, 16, 16], path);
        var backbone = OnnxModel.LoadBackbone(path);
        backbone.ExampleInputShape = [1, 3, 16, 16];
        return backbone;
    }

    private static DataLoader Loader(ulong seed)
    {
        var x = Tensor.RandN([24, 3, 16, 16], 0, 1, generator: new Generator(seed));
        var y = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (long)(i % 3)).ToArray());
        return new DataLoader(new TensorDataset(x, y), 8, shuffle: true, seed: seed);
    }

    private static float[][] Snapshot(IEnumerable<Tensor> tensors) => [.. tensors.Select(t => t.ToArray<float>())];

    [Fact]
    public void The_head_fits_the_backbones_output()
    {
        using var scope = Tensor.Scope();
        var pooled = FineTuning.Classifier(Backbone(), [3, 16, 16], classes: 3);
        Assert.Equal(["Flatten", "Linear"], ((Sequential)pooled[1]).Layers.Select(l => l.TypeName));
        Assert.Equal(16, ((Linear)((Sequential)pooled[1]).Layers[^1]).InFeatures);
        // a backbone whose output is a 2×2 map gets a global average pool first; dropout when asked
        var map = FineTuning.Classifier(new Sequential(new Conv2d(3, 6, 3, stride: 8, padding: 1)), [3, 16, 16], classes: 4, dropout: 0.25);
        Assert.Equal(["GlobalAvgPool2d", "Flatten", "Dropout", "Linear"], ((Sequential)map[1]).Layers.Select(l => l.TypeName));
        Assert.Equal(new[] { 5, 4 }, map.Call(new Variable(Tensor.Zeros(5, 3, 16, 16))).Shape.ToArray());
        // flat features
        var flat = FineTuning.Classifier(new Sequential(new Flatten()), [3, 4, 4], classes: 2);
        Assert.Equal(48, ((Linear)((Sequential)flat[1]).Layers[^1]).InFeatures);
        Assert.Equal("FineTuning.Classifier: classes 1: a classifier needs at least 2", Assert.Throws<EngineException>(() => FineTuning.Classifier(new Flatten(), [3, 4, 4], classes: 1)).Message);
        var e = Assert.Throws<EngineException>(() => FineTuning.Classifier(new Sequential(new Linear(5, 5)), [3, 4, 4], classes: 2));
        Assert.StartsWith("FineTuning.Classifier: the backbone cannot take an input [1, 3, 4, 4]: Linear", e.Message);
    }

    [Fact]
    public void Phase_one_trains_only_the_head_and_phase_two_the_last_stage_with_frozen_statistics()
    {
        using var scope = Tensor.Scope();
        var backbone = Backbone();
        var net = FineTuning.Classifier(backbone, [3, 16, 16], classes: 3, generator: new Generator(1));
        var stages = backbone.Stages();
        Assert.Equal(2, stages.Count);
        var first = Snapshot(stages[0].Select(p => p.Data));
        var last = Snapshot(stages[1].Select(p => p.Data));
        var head = Snapshot(net[1].Parameters().Select(p => p.Data));
        var statistics = Snapshot(backbone.NamedBuffers().Select(b => b.Value));

        var onlyHead = FineTuning.Fit(net, new CrossEntropyLoss(), Loader(1), null, new FineTuneOptions { HeadEpochs = 1, TuneEpochs = 0, HeadLearningRate = 1e-2 });
        Assert.Equal((1, 0L), (onlyHead.HeadEpochs, onlyHead.UnfrozenParameters));
        Assert.Equal(first, Snapshot(stages[0].Select(p => p.Data)));
        Assert.Equal(last, Snapshot(stages[1].Select(p => p.Data)));
        Assert.NotEqual(head, Snapshot(net[1].Parameters().Select(p => p.Data)));

        string csv = Path.Combine(_dir, "metrics.csv");
        var both = FineTuning.Fit(net, new CrossEntropyLoss(), Loader(2), Loader(3), new FineTuneOptions { HeadEpochs = 1, TuneEpochs = 2, HeadLearningRate = 1e-2 }, [new CsvLog(csv)]);
        Assert.Equal([1, 2, 3], both.History.Epochs.Select(m => m.Epoch));
        Assert.Equal(9, both.History.Steps);
        Assert.Equal(1, both.HeadEpochs);
        Assert.Equal(stages[1].Sum(p => p.Numel), both.UnfrozenParameters);
        Assert.Equal(first, Snapshot(stages[0].Select(p => p.Data)));
        Assert.NotEqual(last, Snapshot(stages[1].Select(p => p.Data)));
        Assert.Equal(statistics, Snapshot(backbone.NamedBuffers().Select(b => b.Value)));
        var lines = File.ReadAllLines(csv);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("epoch,", lines[0]);
        Assert.Equal(["1", "2", "3"], lines.Skip(1).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void Updating_batch_norm_statistics_and_unfreezing_everything_are_options()
    {
        using var scope = Tensor.Scope();
        var backbone = Backbone();
        var net = FineTuning.Classifier(backbone, [3, 16, 16], classes: 3, generator: new Generator(1));
        var stages = backbone.Stages();
        var first = Snapshot(stages[0].Select(p => p.Data));
        var statistics = Snapshot(backbone.NamedBuffers().Select(b => b.Value));
        var result = FineTuning.Fit(net, new CrossEntropyLoss(), Loader(4), null,
            new FineTuneOptions { HeadEpochs = 1, TuneEpochs = 1, UpdateBatchNormStatistics = true });
        Assert.NotEqual(statistics, Snapshot(backbone.NamedBuffers().Select(b => b.Value)));
        Assert.Equal(first, Snapshot(stages[0].Select(p => p.Data)));                      // the statistics move, the first stage's weights do not

        var all = FineTuning.Fit(net, new CrossEntropyLoss(), Loader(5), null, new FineTuneOptions { HeadEpochs = 1, TuneEpochs = 1, UnfreezeStages = null });
        Assert.Equal(backbone.Parameters().Sum(p => p.Numel), all.UnfrozenParameters);
        Assert.NotEqual(first, Snapshot(stages[0].Select(p => p.Data)));
        Assert.Contains("unfreeze 0 stages", Assert.Throws<EngineException>(() =>
            FineTuning.Fit(net, new CrossEntropyLoss(), Loader(5), null, new FineTuneOptions { UnfreezeStages = 0 })).Message);
    }

    [Fact]
    public void A_cancelled_run_stops_after_the_step_under_way()
    {
        using var scope = Tensor.Scope();
        var net = FineTuning.Classifier(Backbone(), [3, 16, 16], classes: 3, generator: new Generator(1));
        using var cancel = new CancellationTokenSource();
        var stopAfterTwo = new BatchAction((_, step) => { if (step == 2) cancel.Cancel(); });
        TrainingHistory? seen = null;
        var record = new EpochAction((c, _) => seen = c.History);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            FineTuning.Fit(net, new CrossEntropyLoss(), Loader(6), null, new FineTuneOptions { HeadEpochs = 3 }, [stopAfterTwo, record], cancellation: cancel.Token));
        Assert.Null(seen);                                                                     // no epoch finished
        Assert.All(net.Parameters(), p => Assert.All(p.Data.ToArray<float>(), v => Assert.True(float.IsFinite(v))));
    }
}
