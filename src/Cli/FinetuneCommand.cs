using System.CommandLine;
using System.Diagnostics;
using Engine.Data;
using Engine.Layers;
using Engine.Onnx;
using Engine.Optim;
using Engine.Training;

namespace Engine.Cli;

/// <summary>Options of <c>engine finetune</c>.</summary>
internal sealed record FinetuneOptions(
    int TrainSize = 1500, int TestSize = 1000, int ImageSize = 64, int HeadEpochs = 2, int TuneEpochs = 1, int BatchSize = 32,
    double LearningRate = 1e-3, string? Data = null, string? ModelPath = null, string Device = "cpu", ulong Seed = 42,
    string Out = "runs/finetune", bool Json = false, bool Quiet = false, bool SkipScratch = false, string? Resume = null);

/// <summary>
/// <c>engine finetune</c>: the seed's workflow. The pretrained ResNet18 (ImageNet, imported from ONNX)
/// gets a new 10-class head; phase 1 trains the head with the backbone frozen, phase 2 also trains
/// the last stage at a tenth of the learning rate. The same network is then trained from random
/// initialisation on the same data and budget, and both test accuracies are printed side by side.
/// </summary>
internal static class FinetuneCommand
{
    /// <summary>The model name fine-tuned folders record in config.json.</summary>
    public const string ModelName = "resnet18-finetune";

    /// <summary>The pretrained backbone (or the one at <paramref name="modelPath"/>) with a new head of <paramref name="classes"/> outputs.</summary>
    public static (Sequential Net, OnnxModel Backbone, Linear Head) CreateNet(string? modelPath, Generator generator, int classes = 10)
    {
        string path = modelPath ?? PretrainedModels.ResNet18Path;
        OnnxModel backbone;
        try { backbone = OnnxModel.Load(path); }
        catch (OnnxException e) { throw new CliException(e.Message + (modelPath is null ? " (run 'dotnet restore' to download the pretrained ResNet18)" : "")); }
        var head = new Linear(512, classes, generator: generator);
        return (new Sequential(backbone, new Flatten(), head), backbone, head);
    }

    /// <summary>The per-channel means the CNTK ResNet18 subtracts from BGR pixels on 0-255.</summary>
    public static readonly double[] BgrMeans = [103.06, 115.90, 123.15];

    public static Command Create()
    {
        var trainSize = new Option<int>("--train-size") { Description = "training images drawn (class-balanced, seeded) from the data", DefaultValueFactory = _ => 1500 };
        var testSize = new Option<int>("--test-size") { Description = "test images evaluated", DefaultValueFactory = _ => 1000 };
        var imageSize = new Option<int>("--image-size") { Description = "side the 28x28 images are resized to (a multiple of 32: 32, 64, 96, …)", DefaultValueFactory = _ => 64 };
        var headEpochs = new Option<int>("--head-epochs") { Description = "phase 1: epochs of the head alone", DefaultValueFactory = _ => 2 };
        var tuneEpochs = new Option<int>("--tune-epochs") { Description = "phase 2: epochs with the last stage unfrozen", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch-size") { Description = "images per step", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of the head (the last stage gets a tenth)", DefaultValueFactory = _ => 1e-3 };
        var data = new Option<string?>("--data") { Description = "folder of Fashion-MNIST IDX files (default: the embedded subset)" };
        var model = new Option<string?>("--model") { Description = "an ONNX ResNet18 (default: the pretrained one restore downloads)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda[:N], opencl[:N], ilgpu-cpu or auto", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 42, Description = "seed of sampling, shuffling and the scratch initialisation" };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "runs/finetune" };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var quiet = new Option<bool>("--quiet") { Description = "only the results" };
        var noScratch = new Option<bool>("--skip-scratch") { Description = "do not train the from-scratch comparison" };
        var resume = new Option<string?>("--resume") { Description = "start from an earlier fine-tuned folder (or its model.safetensors) instead of the pretrained head" };
        var command = new Command("finetune", "Fine-tune the pretrained ResNet18 on Fashion-MNIST and compare with training it from scratch");
        foreach (var o in new Option[] { trainSize, testSize, imageSize, headEpochs, tuneEpochs, batch, lr, data, model, device, seed, outDir, json, quiet, noScratch, resume })
            command.Options.Add(o);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(new FinetuneOptions(p.GetValue(trainSize), p.GetValue(testSize), p.GetValue(imageSize),
            p.GetValue(headEpochs), p.GetValue(tuneEpochs), p.GetValue(batch), p.GetValue(lr), p.GetValue(data), p.GetValue(model),
            p.GetValue(device)!, p.GetValue(seed), p.GetValue(outDir)!, p.GetValue(json), p.GetValue(quiet), p.GetValue(noScratch), p.GetValue(resume)), Console.Out)));
        return command;
    }

    /// <summary>Grey [0, 1] 28×28 → 3 × side × side, BGR on 0-255 minus the ImageNet means the model was trained with.</summary>
    public static ITransform Preprocess(int side) => new Compose(
        new Resize(side, side), new GreyToRgb(),
        new Normalize([.. BgrMeans.Select(m => m / 255)], [1 / 255.0, 1 / 255.0, 1 / 255.0]));

    public static int Run(FinetuneOptions o, TextWriter output)
    {
        if (o.ImageSize < 32 || o.ImageSize % 32 != 0)
            throw new CliException($"--image-size {o.ImageSize}: input side must be a multiple of 32 for this model (32, 64, 96, …)");
        if (o.TrainSize < 10) throw new CliException($"--train-size {o.TrainSize} must be at least 10");
        if (o.HeadEpochs < 1 || o.TuneEpochs < 0) throw new CliException("--head-epochs must be at least 1 and --tune-epochs at least 0");
        var device = Common.ParseDevice(o.Device);
        string modelPath = o.ModelPath ?? PretrainedModels.ResNet18Path;
        var (trainAll, testAll) = Common.LoadData(o.Data);
        var train = Datasets.RandomSplit(trainAll, [Math.Min(o.TrainSize, trainAll.Count), trainAll.Count - Math.Min(o.TrainSize, trainAll.Count)], o.Seed)[0];
        var (fit, validation) = Datasets.TrainValidationSplit(train, 0.1, o.Seed);
        var test = Datasets.RandomSplit(testAll, [Math.Min(o.TestSize, testAll.Count), testAll.Count - Math.Min(o.TestSize, testAll.Count)], o.Seed + 1)[0];
        var prep = Preprocess(o.ImageSize);
        DataLoader Loader(IDataset d, bool shuffle) => new(d, o.BatchSize, shuffle: shuffle, seed: o.Seed, transform: prep);
        var loss = new CrossEntropyLoss();
        Directory.CreateDirectory(o.Out);
        if (!o.Quiet)
            output.WriteLine($"fine-tuning {Path.GetFileName(modelPath)} on {(o.Data ?? "the embedded Fashion-MNIST subset")}: {fit.Count} train, {validation.Count} validation, {test.Count} test images at {o.ImageSize}x{o.ImageSize}, batch {o.BatchSize}, seed {o.Seed}");

        // pretrained: frozen backbone + new head, then the last stage too
        var clock = Stopwatch.StartNew();
        var (net, backbone, head) = CreateNet(o.ModelPath, new Generator(o.Seed), FashionMnist.ClassNames.Count);
        if (o.Resume is not null)
        {
            string weights = Directory.Exists(o.Resume) ? Path.Combine(o.Resume, "model.safetensors") : o.Resume;
            Common.LoadCheckpoint(net, weights, $"this run's head ({FashionMnist.ClassNames.Count} Fashion-MNIST classes)");
            if (!o.Quiet) output.WriteLine($"resuming from {weights}");
        }
        backbone.Freeze();
        net.To(device);
        if (!o.Quiet) output.Write(net.Summary(1, 3, o.ImageSize, o.ImageSize));
        var history = new List<EpochMetrics>();
        using (var opt = new Adam(head.Parameters(), o.LearningRate))
            history.AddRange(Fit("pretrained, phase 1 (head)", net, loss, opt, Loader(fit, true), Loader(validation, false), o.HeadEpochs, output, o.Quiet));
        if (o.TuneEpochs > 0)
        {
            backbone.UnfreezeLastStage();
            if (!o.Quiet) output.WriteLine($"phase 2: last stage unfrozen ({backbone.LastStageParameters().Sum(p => p.Numel):N0} more trainable parameters at lr {o.LearningRate / 10:G3})");
            using var opt = new Adam([new ParamGroup(head.Parameters()), new ParamGroup(backbone.LastStageParameters(), learningRate: o.LearningRate / 10)], o.LearningRate);
            history.AddRange(Fit("pretrained, phase 2 (last stage)", net, loss, opt, Loader(fit, true), Loader(validation, false), o.TuneEpochs, output, o.Quiet));
        }
        var pretrained = Trainer.Evaluate(net, loss, Loader(test, false));
        double pretrainedSeconds = clock.Elapsed.TotalSeconds;
        net.Save(Path.Combine(o.Out, "model.safetensors"));
        var curves = new TrainingHistory();
        curves.Epochs.AddRange(history.Select((m, i) => m with { Epoch = i + 1 }));
        CurvePlot.Save(curves, Path.Combine(o.Out, "curves.png"));
        new RunConfig
        {
            Model = ModelName, Classes = [.. FashionMnist.ClassNames], InputShape = [3, o.ImageSize, o.ImageSize],
            NormalizeMean = [.. BgrMeans.Select(m => m / 255)], NormalizeStd = [1 / 255.0, 1 / 255.0, 1 / 255.0], Seed = o.Seed,
            Optimizer = "adam", LearningRate = o.LearningRate, Epochs = o.HeadEpochs + o.TuneEpochs, BatchSize = o.BatchSize, Data = o.Data,
        }.Save(Path.Combine(o.Out, "config.json"));
        if (!o.Quiet)
        {
            output.WriteLine($"pretrained: test accuracy {pretrained.Accuracy:P2} on {pretrained.Samples} images ({pretrainedSeconds:F1} s)");
            using var scope = Tensor.Scope();
            var batch = Loader(test, false).First();
            var probs = Trainer.Predict(net, batch.Inputs.Narrow(0, 0, 3)).To(Device.Cpu).ToArray<float>();
            var labels = batch.Labels.ToArray<long>();
            for (int i = 0; i < 3; i++)
            {
                int best = Enumerable.Range(0, 10).MaxBy(c => probs[i * 10 + c]);
                output.WriteLine($"  test image {i}: predicted {FashionMnist.ClassNames[best]} ({probs[i * 10 + best]:P1}), true {FashionMnist.ClassNames[(int)labels[i]]}");
            }
            batch.Dispose();
        }

        // the same network and budget from random initialisation
        Evaluation? scratch = null;
        double scratchSeconds = 0;
        if (!o.SkipScratch)
        {
            clock.Restart();
            var (scratchNet, fresh, _) = CreateNet(o.ModelPath, new Generator(o.Seed));
            fresh.ResetParameters(new Generator(o.Seed + 7));
            scratchNet.To(device);
            using var opt = new Adam(scratchNet.Parameters(), o.LearningRate);
            Fit("scratch (all layers)", scratchNet, loss, opt, Loader(fit, true), Loader(validation, false), o.HeadEpochs + o.TuneEpochs, output, o.Quiet);
            scratch = Trainer.Evaluate(scratchNet, loss, Loader(test, false));
            scratchSeconds = clock.Elapsed.TotalSeconds;
        }
        output.WriteLine($"pretrained ResNet18 (frozen, then last stage): test accuracy {pretrained.Accuracy:P2}");
        if (scratch is not null)
            output.WriteLine($"same network from scratch, same data and epochs:   test accuracy {scratch.Accuracy:P2}");
        if (!o.Quiet) output.WriteLine($"wrote model.safetensors, config.json and curves.png in {o.Out}");
        if (o.Json)
            output.WriteLine(Common.Json(new
            {
                pretrained_test_accuracy = pretrained.Accuracy, scratch_test_accuracy = scratch?.Accuracy,
                seconds = Math.Round(pretrainedSeconds + scratchSeconds, 3), pretrained_seconds = Math.Round(pretrainedSeconds, 3),
                scratch_seconds = Math.Round(scratchSeconds, 3), train_images = fit.Count, image_size = o.ImageSize, @out = o.Out,
            }));
        return 0;
    }

    private static List<EpochMetrics> Fit(string what, Engine.Layers.Module net, Loss loss, Optimizer opt, DataLoader train, DataLoader val, int epochs,
        TextWriter output, bool quiet)
    {
        var lines = new EpochAction((_, m) =>
        {
            if (!quiet)
                output.WriteLine($"{what} epoch {m.Epoch}: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2} | validation acc {m.ValAccuracy:P2} | {m.Seconds:F1} s, {m.SamplesPerSecond:F0} images/s");
        });
        try
        {
            return Trainer.Fit(net, loss, opt, train, epochs, val, [lines]).Epochs;
        }
        catch (NonFiniteLossException e)
        {
            throw new CliException($"{what}: {e.Message}");
        }
    }
}
