using System.CommandLine;
using System.Diagnostics;
using Engine.Data;
using Engine.Distributed;
using Engine.Layers;
using Engine.Plots;
using Engine.Training;

namespace Engine.Cli;

/// <summary>What <c>engine train</c> was asked to do.</summary>
internal sealed record TrainOptions(string Model = "lenet", int Epochs = 3, int BatchSize = 32, double? LearningRate = null,
    string Optimizer = "adam", string? Data = null, string Device = "cpu", ulong Seed = 42, string Out = "runs/latest",
    double ValidationFraction = 0.1, bool Json = false, bool Quiet = false, string Schedule = "cosine");

/// <summary><c>engine train</c>: trains a model on Fashion-MNIST (the embedded subset by default) and writes the run's folder.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "mlp, lenet or resnet-small", DefaultValueFactory = _ => "lenet" };
        var epochs = new Option<int>("--epochs") { Description = "passes over the training data", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch-size") { Description = "samples per step", DefaultValueFactory = _ => 32 };
        var lr = new Option<double?>("--lr") { Description = "peak learning rate (default: 3e-3 for adam and adamw, 0.05 for sgd, 0.01 for adagrad, 1e-3 for rmsprop)" };
        var schedule = new Option<string>("--schedule") { Description = "cosine (decay to 0 over all steps) or constant", DefaultValueFactory = _ => "cosine" };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam, adamw, adagrad or rmsprop", DefaultValueFactory = _ => "adam" };
        var data = new Option<string?>("--data") { Description = "folder of Fashion-MNIST IDX files (default: the embedded 10k/2k subset)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda[:N], opencl[:N], ilgpu-cpu (the GPU kernels emulated, slow) or auto (the best here)", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<ulong>("--seed") { Description = "seed of initialisation, shuffling and dropout", DefaultValueFactory = _ => 42 };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "runs/latest" };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var quiet = new Option<bool>("--quiet") { Description = "no progress display: only the results (with --json, only the JSON)" };
        var command = new Command("train", "Train a model on Fashion-MNIST and write model.safetensors, config.json, metrics.csv and curves.png");
        foreach (var o in new Option[] { model, epochs, batch, lr, schedule, optimizer, data, device, seed, outDir, json, quiet }) command.Options.Add(o);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(new TrainOptions(p.GetValue(model)!, p.GetValue(epochs), p.GetValue(batch),
            p.GetValue(lr), p.GetValue(optimizer)!, p.GetValue(data), p.GetValue(device)!, p.GetValue(seed), p.GetValue(outDir)!,
            Json: p.GetValue(json), Quiet: p.GetValue(quiet), Schedule: p.GetValue(schedule)!), Console.Out)));
        return command;
    }

    public static int Run(TrainOptions o, TextWriter output)
    {
        if (o.Epochs < 1) throw new CliException($"--epochs {o.Epochs} must be at least 1");
        if (o.BatchSize < 1) throw new CliException($"--batch-size {o.BatchSize} must be at least 1");
        var group = ProcessGroup.Launched;
        return Common.OnEveryRank(group, o.BatchSize, scratch => scratch is null
            ? Train(o, output, group)
            : Train(o with { Out = scratch, Quiet = true, Json = false }, TextWriter.Null, group));
    }

    private static int Train(TrainOptions o, TextWriter output, ProcessGroup? group)
    {
        int ranks = group?.Size ?? 1, rank = group?.Rank ?? 0;
        if (!Common.Optimizers.Contains(o.Optimizer)) throw new CliException($"unknown optimizer '{o.Optimizer}'; known: {string.Join(", ", Common.Optimizers)}");
        double lr = o.LearningRate ?? Common.DefaultLearningRate(o.Optimizer);
        if (!(lr > 0)) throw new CliException($"--lr {lr} must be positive");
        if (o.Schedule is not ("cosine" or "constant")) throw new CliException($"unknown schedule '{o.Schedule}'; known: cosine, constant");
        if (o.Epochs > FinetuneCommand.MaxEpochs) throw new CliException($"--epochs {o.Epochs} is more than {FinetuneCommand.MaxEpochs}");
        var device = Common.ParseDevice(o.Device);
        RunFolder.Check(o.Out);
        Tensor.ManualSeed(o.Seed);
        var modelNet = Common.CreateModel(o.Model, new Generator(o.Seed));
        modelNet.To(device);
        var (trainSet, testSet) = Common.LoadData(o.Data);
        var config = new RunConfig
        {
            Model = o.Model, Classes = [.. FashionMnist.ClassNames], InputShape = [1, 28, 28],
            NormalizeMean = [FashionMnist.PixelStatistics.Mean], NormalizeStd = [FashionMnist.PixelStatistics.Std],
            Seed = o.Seed, Optimizer = o.Optimizer, LearningRate = lr, Epochs = o.Epochs, BatchSize = o.BatchSize,
            Data = o.Data is null ? null : Path.GetFullPath(o.Data), Color = "grey",
        };
        var normalize = config.Preprocessing().Evaluation();
        var (fit, validation) = Datasets.TrainValidationSplit(trainSet, o.ValidationFraction, o.Seed);
        // each process takes its slice of every batch; together they see exactly one process's batches
        var trainLoader = new DataLoader(fit, o.BatchSize / ranks, shuffle: true, seed: o.Seed, transform: normalize) { Shard = (rank, ranks) };
        var valLoader = new DataLoader(validation, 512, transform: normalize) { Shard = (rank, ranks) };
        var testLoader = new DataLoader(testSet, 512, transform: normalize) { Shard = (rank, ranks) };
        using var ddp = ranks > 1 ? new DistributedDataParallel(modelNet, group!) : null;
        using var run = RunFolder.Begin(o.Out);
        using var optimizer = Common.CreateOptimizer(o.Optimizer, modelNet.Parameters(trainableOnly: true), lr);
        var loss = new CrossEntropyLoss();
        var checkpoint = new ModelCheckpoint(run.File("best.safetensors"), Monitored.ValAccuracy);
        long steps = (long)o.Epochs * trainLoader.BatchCount;
        if (steps > int.MaxValue)
            throw new CliException($"--epochs {o.Epochs} of {trainLoader.BatchCount} steps each make {steps} steps, more than {int.MaxValue}; use fewer epochs or a larger --batch-size");
        var schedule = o.Schedule == "cosine" ? new Engine.Optim.CosineAnnealingLR(optimizer, tMax: (int)steps) : null;
        var callbacks = new ICallback[]
        {
            new BatchAction((_, _) => schedule?.Step()),
            new CsvLog(run.File("metrics.csv")),
            new TensorBoardLog(run.File("tensorboard")),
            checkpoint,
        };
        if (!o.Quiet)
        {
            output.WriteLine($"training {o.Model} on {(o.Data ?? "the embedded Fashion-MNIST subset")}: {fit.Count} train, {validation.Count} validation, {testSet.Count} test images; {o.Optimizer} lr {lr:G3} ({o.Schedule}), batch {o.BatchSize}, {o.Epochs} epochs, seed {o.Seed}, {CpuThreads()} threads" +
                (ranks > 1 ? $" per process, {ranks} processes ({group!.Launcher}), {o.BatchSize / ranks} samples each per step" : ""));
            output.Write(modelNet.Summary(1, 1, 28, 28));
        }
        var clock = Stopwatch.StartNew();
        TrainingHistory? history;
        using var interrupt = new Interrupt();
        try
        {
            history = Display.Run(output, o.Quiet, o.Json, display =>
            {
                var lines = new EpochAction((_, m) => display.Line($"epoch {m.Epoch}: {Common.EpochLine(m)}"));
                try
                {
                    return Trainer.Fit(modelNet, loss, optimizer, trainLoader, o.Epochs, valLoader, [.. callbacks, lines], display.Training("epoch"), interrupt.Token, verbose: false, distributed: ddp);
                }
                catch (OperationCanceledException)
                {
                    modelNet.Save(run.File("model.safetensors"));
                    config.Save(run.File("config.json"));
                    display.Line($"interrupted: the weights after the last finished step are in {run.Where("model.safetensors")} (with config.json)");
                    return null;
                }
            });
        }
        catch (NonFiniteLossException e)
        {
            string folder = run.Fail();
            string kept = checkpoint.SavedEpoch > 0 ? $"the last good checkpoint (epoch {checkpoint.SavedEpoch}) is kept in {Path.Combine(folder, "best.safetensors")}" : "no checkpoint had been saved yet";
            string earlier = folder != o.Out ? $"; this run's files are in {folder}, and the run already in {o.Out} is unchanged" : "";
            throw new CliException($"training stopped: {e.Message}; {kept}{earlier}");
        }
        if (history is null)
        {
            run.Commit();
            return Interrupt.ExitCode;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var test = Trainer.Evaluate(modelNet, loss, testLoader, group);
        modelNet.Save(run.File("model.safetensors"));
        config.Save(run.File("config.json"));
        CurvePlot.Save(history, run.File("curves.png"));
        Engine.Onnx.OnnxExport.Save(modelNet, config.InputShape, run.File("model.onnx"));
        run.Commit();
        long samples = history.Epochs.Sum(e => e.Samples);
        double trainSeconds = history.Epochs.Sum(e => e.Seconds);
        if (!(o.Quiet && o.Json))
        {
            if (history.StoppedBecause is { } why) output.WriteLine(why);
            output.WriteLine($"test accuracy {test.Accuracy:P2}, test loss {test.Loss:F4} on {test.Samples} images; {seconds:F1} s, {samples / trainSeconds:F0} training samples/s");
            output.WriteLine($"wrote {run.Where("model.safetensors")}, config.json, model.onnx, metrics.csv, curves.png, best.safetensors and tensorboard/ in {o.Out}");
        }
        if (o.Json)
            output.WriteLine(Common.Json(new
            {
                model = o.Model, test_accuracy = test.Accuracy, test_loss = test.Loss, epochs = history.Epochs.Count,
                seconds = Math.Round(seconds, 3), samples_per_second = Math.Round(samples / trainSeconds, 1), @out = o.Out, world_size = ranks,
            }));
        return 0;
    }

    private static int CpuThreads() => Engine.Kernels.CpuBackend.Threads;
}
