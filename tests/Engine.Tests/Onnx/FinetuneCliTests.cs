using System.Text.Json;
using Engine.Cli;

namespace Engine.Tests;

/// <summary><c>engine finetune</c> end to end on a few images, and its errors.</summary>
[Collection(nameof(MemoryCollection))]
public sealed class FinetuneCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-finetune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Finetune(FinetuneOptions o)
    {
        var w = new StringWriter();
        int code = CliGuard.Run(w, () => FinetuneCommand.Run(o, w));
        return (code, w.ToString());
    }

    [Fact]
    public void Fine_tunes_compares_with_scratch_and_writes_the_run()
    {
        string outDir = Path.Combine(_dir, "run");
        var (code, text) = Finetune(new FinetuneOptions(TrainSize: 40, TestSize: 16, ImageSize: 32, HeadEpochs: 1, TuneEpochs: 1,
            BatchSize: 8, Out: outDir, Json: true, ModelPath: Engine.Onnx.PretrainedModels.ResNet18Path));
        Assert.Equal(0, code);
        Assert.Contains("phase 2: last stage unfrozen", text);
        Assert.Contains("same network from scratch", text);
        var json = JsonDocument.Parse(text.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.InRange(json.GetProperty("pretrained_test_accuracy").GetDouble(), 0, 1);
        Assert.InRange(json.GetProperty("scratch_test_accuracy").GetDouble(), 0, 1);
        Assert.True(json.GetProperty("seconds").GetDouble() > 0);
        foreach (var f in new[] { "model.safetensors", "config.json", "curves.png" }) Assert.True(File.Exists(Path.Combine(outDir, f)), f);

        // the folder works with predict and eval like a trained one
        string png = Path.Combine(_dir, "shoe.png");
        File.WriteAllBytes(png, CliTests.GreyPng(40, 30));
        var p = new StringWriter();
        Assert.Equal(0, CliGuard.Run(p, () => PredictCommand.Run(outDir, [png], true, p)));
        var predictions = JsonDocument.Parse(p.ToString().TrimEnd().Split('\n')[^1]).RootElement.GetProperty("predictions");
        Assert.Equal(3, predictions[0].GetProperty("top").GetArrayLength());
        var (model, config) = EvalCommand.LoadModel(outDir);
        Assert.Equal([3, 32, 32], config.InputShape);
        Assert.Equal(10, model.Parameters().Last().Shape[0]);

        // resuming from the run starts from its weights: the first evaluation before training equals the run's test accuracy
        string again = Path.Combine(_dir, "again");
        var (code2, text2) = Finetune(new FinetuneOptions(TrainSize: 20, TestSize: 16, ImageSize: 32, HeadEpochs: 1, TuneEpochs: 0,
            BatchSize: 8, Out: again, SkipScratch: true, Resume: outDir));
        Assert.Equal(0, code2);
        Assert.Contains($"resuming from {Path.Combine(outDir, "model.safetensors")}", text2);
        Assert.True(File.Exists(Path.Combine(again, "model.safetensors")));
    }

    /// <summary>A checkpoint whose head has another class count than the requested one: one message, nothing changed.</summary>
    [Fact]
    public void A_checkpoint_with_another_class_count_is_refused_naming_both_counts()
    {
        // a fine-tuned folder for 5 classes, written as a 5-class head would be
        string five = Path.Combine(_dir, "five");
        Directory.CreateDirectory(five);
        var (net, _) = FinetuneCommand.CreateNet(null, null, 32, 5, 0, new Generator(1));
        net.Save(Path.Combine(five, "model.safetensors"));
        new RunConfig
        {
            Model = FinetuneCommand.ModelName, Classes = ["a", "b", "c", "d", "e"], InputShape = [3, 32, 32],
            NormalizeMean = [0, 0, 0], NormalizeStd = [1, 1, 1], Seed = 1, Optimizer = "adam", LearningRate = 1e-3, Epochs = 1, BatchSize = 8,
        }.Save(Path.Combine(five, "config.json"));
        // its own config agrees with it: it loads
        Assert.Equal(5, EvalCommand.LoadModel(five).Model.Parameters().Last().Shape[0]);

        // finetune --resume wants Fashion-MNIST's 10 classes
        string outDir = Path.Combine(_dir, "keep10");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "model.safetensors"), "earlier run");
        var (code, text) = Finetune(new FinetuneOptions(TrainSize: 20, TestSize: 16, HeadEpochs: 1, Out: outDir, Resume: five, Quiet: true));
        Assert.Equal(2, code);
        Assert.Single(text.Trim().Split('\n'));
        Assert.Contains("has 5 classes but this run's head (10 classes) has 10", text);
        Assert.Equal("earlier run", File.ReadAllText(Path.Combine(outDir, "model.safetensors")));

        // a config that lists 10 classes beside a 5-class checkpoint
        var config = RunConfig.Load(Path.Combine(five, "config.json"));
        (config with { Classes = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")] }).Save(Path.Combine(five, "config.json"));
        var e = Assert.Throws<CliException>(() => EvalCommand.LoadModel(five));
        Assert.Contains("has 5 classes but config.json (10 classes) has 10", e.Message);
    }

    [Fact]
    public void Bad_input_is_one_line_and_overwrites_nothing()
    {
        string outDir = Path.Combine(_dir, "keep");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "model.safetensors"), "earlier run");
        var size = Finetune(new FinetuneOptions(ImageSize: 8, Out: outDir));
        Assert.Equal(2, size.Code);
        Assert.Contains("--image-size 8 must lie in 16 to 4096", size.Output);
        Assert.Contains("--image-size 100000 must lie in 16 to 4096", Finetune(new FinetuneOptions(ImageSize: 100_000, Out: outDir)).Output);
        string missing = Path.Combine(_dir, "nowhere.onnx");
        var model = Finetune(new FinetuneOptions(ModelPath: missing, Out: outDir, TrainSize: 20));
        Assert.Equal(2, model.Code);
        Assert.Contains(missing, model.Output);
        Assert.Equal("earlier run", File.ReadAllText(Path.Combine(outDir, "model.safetensors")));
    }
}
