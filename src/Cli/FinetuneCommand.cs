using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Engine.Data;
using Engine.Distributed;
using Engine.Layers;
using Engine.Onnx;
using Engine.Optim;
using Engine.Plots;
using Engine.Training;

namespace Engine.Cli;

/// <summary>Options of <c>engine finetune</c>.</summary>
internal sealed record FinetuneOptions(
    int TrainSize = 1500, int TestSize = 1000, int ImageSize = 64, int HeadEpochs = 2, int? TuneEpochs = null, int BatchSize = 32,
    double LearningRate = 1e-3, string? Data = null, string? ModelPath = null, string Device = "cpu", ulong Seed = 42,
    string Out = "runs/finetune", bool Json = false, bool Quiet = false, bool SkipScratch = false, string? Resume = null,
    string? Cut = null, double Dropout = 0, string Unfreeze = "last", string BatchNorm = "frozen", bool SkipBadImages = false,
    double ValidationFraction = 0.15, double TestFraction = 0.15, bool Augment = true, double[]? Mean = null, double[]? Std = null,
    string? ChannelOrder = null, double? BodyLearningRate = null);

/// <summary>
/// <c>engine finetune</c>: the seed's workflow. A pretrained ONNX image model (the ImageNet ResNet18 by
/// default) is cut before its classifier and given a new head for the data's classes; phase 1 trains the
/// head on the frozen backbone, phase 2 also trains its last stages at a lower learning rate. The same
/// network is then trained from random initialisation on the same data and budget, and both test
/// accuracies are printed side by side. The data is a folder of images, one subfolder per class, or
/// (without <c>--data</c>) the embedded Fashion-MNIST subset.
/// </summary>
internal static class FinetuneCommand
{
    /// <summary>The model name fine-tuned folders record in config.json.</summary>
    public const string ModelName = "finetune";

    /// <summary>The most epochs a run takes (train's --epochs; finetune's head and tuning epochs together).</summary>
    public const int MaxEpochs = 1_000_000;

    /// <summary>The largest --image-size: one 3×4096×4096 image is 200 MB of floats.</summary>
    public const int MaxImageSize = 4096;

    /// <summary>The name earlier versions recorded (the pretrained ResNet18, a Linear head after a Flatten).</summary>
    public const string LegacyModelName = "resnet18-finetune";

    /// <summary>Tuning epochs when none are asked for: one on the embedded subset (the 2-minute main job), three on an image folder.</summary>
    private static int DefaultTuneEpochs(bool imageFolder) => imageFolder ? 3 : 1;

    public static Command Create()
    {
        var trainSize = new Option<int>("--train-size") { Description = "Fashion-MNIST only: training images drawn (seeded) from the data", DefaultValueFactory = _ => 1500 };
        var testSize = new Option<int>("--test-size") { Description = "Fashion-MNIST only: test images evaluated", DefaultValueFactory = _ => 1000 };
        var imageSize = new Option<int>("--image-size") { Description = "the network's input side; photos are kept at 8/7 of it and cropped", DefaultValueFactory = _ => 64 };
        var headEpochs = new Option<int>("--head-epochs") { Description = "phase 1: epochs of the head alone", DefaultValueFactory = _ => 2 };
        var tuneEpochs = new Option<int?>("--tune-epochs") { Description = "phase 2: epochs with backbone stages unfrozen (default: 3 on an image folder, 1 on the embedded subset)" };
        var batch = new Option<int>("--batch-size") { Description = "images per step", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of the head (and of the scratch run)", DefaultValueFactory = _ => 1e-3 };
        var bodyLr = new Option<double?>("--body-lr") { Description = "Adam learning rate of the unfrozen stages (default: a tenth of --lr)" };
        var data = new Option<string?>("--data") { Description = "a folder of images, DIR/<class>/*.jpg or DIR/train|val|test/<class>/… (or of Fashion-MNIST IDX files); default: the embedded Fashion-MNIST subset" };
        var model = new Option<string?>("--model") { Description = "an ONNX image model to fine-tune (default: the pretrained ResNet18 restore downloads)" };
        var cut = new Option<string?>("--cut") { Description = "the node (or tensor) whose output is the features (default: found before the final classifier)" };
        var dropout = new Option<double>("--dropout") { Description = "dropout before the new head", DefaultValueFactory = _ => 0 };
        var unfreeze = new Option<string>("--unfreeze") { Description = "phase 2 unfreezes the last stage (last), the last N stages, or all", DefaultValueFactory = _ => "last" };
        var batchNorm = new Option<string>("--bn-stats") { Description = "phase 2 batch norms: frozen (keep the pretrained statistics) or update (batch statistics, PyTorch's train())", DefaultValueFactory = _ => "frozen" };
        var skipBad = new Option<bool>("--skip-bad-images") { Description = "leave out images that cannot be decoded (one warning each) instead of stopping" };
        var valFraction = new Option<double>("--val-fraction") { Description = "share of each class held out for validation when there is no val/ folder", DefaultValueFactory = _ => 0.15 };
        var testFraction = new Option<double>("--test-fraction") { Description = "share of each class held out for testing when there is no test/ folder", DefaultValueFactory = _ => 0.15 };
        var noAugment = new Option<bool>("--no-augment") { Description = "train on centre crops instead of random resized crops and flips" };
        var mean = new Option<string?>("--mean") { Description = "per-channel means on 0-1, e.g. 0.485,0.456,0.406 (default: what the model expects)" };
        var std = new Option<string?>("--std") { Description = "per-channel standard deviations on 0-1, e.g. 0.229,0.224,0.225" };
        var channels = new Option<string?>("--channel-order") { Description = "rgb or bgr (default: what the model expects)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda[:N], opencl[:N], ilgpu-cpu or auto", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 42, Description = "seed of the split, sampling, shuffling, augmentation and the scratch initialisation" };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "runs/finetune" };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var quiet = new Option<bool>("--quiet") { Description = "only the results" };
        var noScratch = new Option<bool>("--skip-scratch") { Description = "do not train the from-scratch comparison" };
        var resume = new Option<string?>("--resume") { Description = "start from an earlier fine-tuned folder (or its model.safetensors) instead of the pretrained head" };
        var command = new Command("finetune", "Fine-tune a pretrained image model on a folder of images (or Fashion-MNIST) and compare with training it from scratch");
        foreach (var o in new Option[] { data, model, cut, imageSize, headEpochs, tuneEpochs, batch, lr, bodyLr, unfreeze, batchNorm, dropout, noAugment,
                     valFraction, testFraction, skipBad, mean, std, channels, trainSize, testSize, device, seed, outDir, json, quiet, noScratch, resume })
            command.Options.Add(o);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(new FinetuneOptions(p.GetValue(trainSize), p.GetValue(testSize), p.GetValue(imageSize),
            p.GetValue(headEpochs), p.GetValue(tuneEpochs), p.GetValue(batch), p.GetValue(lr), p.GetValue(data), p.GetValue(model),
            p.GetValue(device)!, p.GetValue(seed), p.GetValue(outDir)!, p.GetValue(json), p.GetValue(quiet), p.GetValue(noScratch), p.GetValue(resume),
            p.GetValue(cut), p.GetValue(dropout), p.GetValue(unfreeze)!, p.GetValue(batchNorm)!, p.GetValue(skipBad), p.GetValue(valFraction),
            p.GetValue(testFraction), !p.GetValue(noAugment), ParseList(p.GetValue(mean), "--mean"), ParseList(p.GetValue(std), "--std"),
            p.GetValue(channels), p.GetValue(bodyLr)), Console.Out)));
        return command;
    }

    private static double[]? ParseList(string? text, string option)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new CliException($"{option} {text}: '{parts[i]}' is not a number; give one value per channel, comma-separated");
        return values;
    }

    /// <summary>
    /// The backbone at <paramref name="modelPath"/> (the pretrained ResNet18 when null), cut before its
    /// classifier (or at <paramref name="cut"/>), with a new head of <paramref name="classes"/> outputs.
    /// </summary>
    public static (Sequential Net, OnnxModel Backbone) CreateNet(string? modelPath, string? cut, int imageSize, int classes, double dropout, Generator generator)
    {
        string path = modelPath ?? PretrainedModels.ResNet18Path;
        OnnxModel backbone;
        try { backbone = OnnxModel.LoadBackbone(path, cut); }
        catch (OnnxException e) { throw new CliException(e.Message + (modelPath is null && !File.Exists(path) ? $" ({PretrainedModels.ResNet18Hint} with --model)" : "")); }
        backbone.ExampleInputShape = [1, 3, imageSize, imageSize];
        var declared = backbone.DeclaredInputShapes.Count == 1 ? backbone.DeclaredInputShapes[0] : [];
        if (declared.Count == 4 && declared[1] is { } c && c != 3)
            throw new CliException($"{path}: the model takes {c}-channel images; fine-tuning takes 3-channel (RGB or BGR) models");
        try
        {
            return (FineTuning.Classifier(backbone, [3, imageSize, imageSize], classes, dropout, generator), backbone);
        }
        catch (EngineException e)
        {
            string hint = declared.Count == 4 && declared[2] is { } h && declared[3] is { } w && (h != imageSize || w != imageSize)
                ? $"; the model declares {h}x{w} inputs: try --image-size {h}" : "";
            throw new CliException($"{path}: {e.Message}{hint}");
        }
    }

    /// <summary>The fine-tuned network a run folder's config describes (weights not loaded).</summary>
    public static Module CreateModel(RunConfig config)
    {
        if (config.Model == LegacyModelName)
        {
            var backbone = LoadForConfig(config);
            return new Sequential(backbone, new Flatten(), new Linear(512, config.Classes.Length));
        }
        return CreateNet(config.Backbone, config.Cut, config.InputShape[1], config.Classes.Length, config.Dropout ?? 0, new Generator(0)).Net;
    }

    private static OnnxModel LoadForConfig(RunConfig config)
    {
        try { return OnnxModel.Load(config.Backbone ?? PretrainedModels.ResNet18Path); }
        catch (OnnxException e) { throw new CliException(e.Message); }
    }

    /// <summary>What the model expects, unless the options say otherwise.</summary>
    private static ImagePreprocessing Preprocessing(FinetuneOptions o, OnnxModel backbone, bool fashionMnist)
    {
        var p = PretrainedModels.PreprocessingFor(backbone, o.ImageSize);
        if (o.ChannelOrder is not null)
            p = p with { Bgr = o.ChannelOrder.ToLowerInvariant() switch { "bgr" => true, "rgb" => false, _ => throw new CliException($"--channel-order {o.ChannelOrder}: rgb or bgr") } };
        if (o.Mean is not null) p = p with { Mean = o.Mean };
        if (o.Std is not null) p = p with { Std = o.Std };
        foreach (var (values, name) in new[] { (p.Mean, "--mean"), (p.Std, "--std") })
            if (values.Length is not (1 or 3)) throw new CliException($"{name}: {values.Length} values; give 1 or 3 (one per channel)");
        if (p.Std.Any(s => !(s > 0) || !double.IsFinite(s))) throw new CliException($"--std {string.Join(",", p.Std)}: every value must be positive");
        // Fashion-MNIST's 28×28 grey images are resized whole and repeated to three channels
        return fashionMnist ? p with { Squash = true, Grey = true } : p;
    }

    private static string Describe(ImagePreprocessing p) =>
        $"{(p.Grey ? "grey as " : "")}{(p.Bgr ? "BGR" : "RGB")}, mean {string.Join("/", p.Mean.Select(m => (m * 255).ToString("0.##", CultureInfo.InvariantCulture)))}, " +
        $"std {string.Join("/", p.Std.Select(s => (s * 255).ToString("0.###", CultureInfo.InvariantCulture)))} on 0-255";

    /// <summary>The data of a run: three datasets, their class names, and what to say about them.</summary>
    private sealed record RunData(IDataset Train, IDataset Validation, IDataset Test, IReadOnlyList<string> Classes, string Description,
        bool ImageFolder, int Skipped, IDisposable? Owner, double? ValidationFraction, double? TestFraction);

    public static int Run(FinetuneOptions o, TextWriter output) => Run(o, output, CancellationToken.None);

    /// <summary>
    /// Runs the command; <paramref name="stop"/> acts as a Ctrl-C (for tests). Under mpirun/srun it trains
    /// data-parallel: rank 0 prints and writes the run folder, the others work quietly in a folder of their own
    /// that is removed at the end; <c>--batch-size</c> is the whole job's batch.
    /// </summary>
    internal static int Run(FinetuneOptions o, TextWriter output, CancellationToken stop)
    {
        var group = ProcessGroup.Launched;
        return Common.OnEveryRank(group, o.BatchSize, scratch => scratch is null
            ? RunOne(o, output, stop, group)
            : RunOne(o with { Out = scratch, Quiet = true, Json = false }, TextWriter.Null, stop, group));
    }

    private static int RunOne(FinetuneOptions o, TextWriter output, CancellationToken stop, ProcessGroup? group)
    {
        if (o.ImageSize is < 16 or > MaxImageSize) throw new CliException($"--image-size {o.ImageSize} must lie in 16 to {MaxImageSize}");
        if (o.TrainSize < 10) throw new CliException($"--train-size {o.TrainSize} must be at least 10");
        if (o.HeadEpochs < 1 || o.TuneEpochs < 0) throw new CliException("--head-epochs must be at least 1 and --tune-epochs at least 0");
        if ((long)o.HeadEpochs + (o.TuneEpochs ?? 0) > MaxEpochs) throw new CliException($"--head-epochs {o.HeadEpochs} and --tune-epochs {o.TuneEpochs} make more than {MaxEpochs} epochs");
        if (o.BatchSize < 1) throw new CliException($"--batch-size {o.BatchSize} must be at least 1");
        if (!(o.LearningRate > 0) || o.BodyLearningRate is <= 0) throw new CliException("--lr and --body-lr must be positive");
        if (!(o.Dropout >= 0 && o.Dropout < 1)) throw new CliException($"--dropout {o.Dropout} must lie in [0, 1)");
        int? unfreeze = o.Unfreeze.ToLowerInvariant() switch
        {
            "last" => 1,
            "all" => null,
            var n when int.TryParse(n, out int k) && k >= 1 => k,
            _ => throw new CliException($"--unfreeze {o.Unfreeze}: last, all, or a number of stages (1, 2, …)"),
        };
        if (o.BatchNorm is not ("frozen" or "update")) throw new CliException($"--bn-stats {o.BatchNorm}: frozen or update");
        var device = Common.ParseDevice(o.Device);
        RunFolder.Check(o.Out);
        string modelPath = o.ModelPath ?? PretrainedModels.ResNet18Path;
        if (o.Data is not null && !Directory.Exists(o.Data)) throw new CliException($"{o.Data}: no such data folder");
        bool fashion = o.Data is null || FashionMnist.HasFiles(o.Data);

        // the folder's classes, then the model: a folder or a model that cannot be used fails before any image is decoded
        var folder = fashion ? null : ImageFolder.Scan(o.Data!, new ImageFolderOptions { ValidationFraction = o.ValidationFraction, TestFraction = o.TestFraction, Seed = o.Seed });
        IReadOnlyList<string> classes = folder?.Classes ?? FashionMnist.ClassNames;
        var (net, backbone) = CreateNet(o.ModelPath, o.Cut, o.ImageSize, classes.Count, o.Dropout, new Generator(o.Seed));
        var prep = Preprocessing(o, backbone, fashion);
        if (o.Resume is not null)
        {
            string weights = Directory.Exists(o.Resume) ? Path.Combine(o.Resume, "model.safetensors") : o.Resume;
            Common.LoadCheckpoint(net, weights, $"this run's head ({classes.Count} classes)");
            if (!o.Quiet) output.WriteLine($"resuming from {weights}");
        }

        using var interrupt = new Interrupt();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token, stop);
        return Display.Run(output, o.Quiet, o.Json, display =>
        {
            RunData data;
            try { data = folder is null ? FashionMnistData(o) : DecodeFolder(o, folder, prep, display, cancel.Token); }
            catch (OperationCanceledException) { display.Line("interrupted while reading the images; nothing was written"); return Interrupt.ExitCode; }
            using var owner = data.Owner;
            int tuneEpochs = o.TuneEpochs ?? DefaultTuneEpochs(data.ImageFolder);
            return Train(o, prep, data, net, backbone, tuneEpochs, unfreeze, device, modelPath, display, output, cancel.Token, group);
        });
    }

    private static RunData FashionMnistData(FinetuneOptions o)
    {
        var (trainAll, testAll) = Common.LoadData(o.Data);
        var train = Datasets.RandomSplit(trainAll, [Math.Min(o.TrainSize, trainAll.Count), trainAll.Count - Math.Min(o.TrainSize, trainAll.Count)], o.Seed)[0];
        var (fit, validation) = Datasets.TrainValidationSplit(train, 0.1, o.Seed);
        var test = Datasets.RandomSplit(testAll, [Math.Min(o.TestSize, testAll.Count), testAll.Count - Math.Min(o.TestSize, testAll.Count)], o.Seed + 1)[0];
        return new RunData(fit, validation, test, FashionMnist.ClassNames, o.Data ?? "the embedded Fashion-MNIST subset", false, 0,
            new Both(trainAll, testAll), null, null);
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }

    private static RunData DecodeFolder(FinetuneOptions o, ImageFolder folder, ImagePreprocessing prep, Display display, CancellationToken cancel)
    {
        string dir = o.Data!;
        int total = folder.Train.Count + folder.Validation.Count + folder.Test.Count;
        display.Line($"{dir}: {folder.Classes.Count} classes ({Common.ClassList(folder.Classes)}), {total} images: " +
                     $"{folder.Train.Count} train, {folder.Validation.Count} validation, {folder.Test.Count} test " +
                     (folder.HasSplitFolders ? "(split folders)" : $"(each class split {1 - o.ValidationFraction - o.TestFraction:0.##}/{o.ValidationFraction:0.##}/{o.TestFraction:0.##}, seed {o.Seed})"));
        if (folder.Ignored.Count > 0)
            display.Line($"note: {folder.Ignored.Count} file(s) without an image extension ({string.Join(", ", ImageDecoder.Extensions)}) left out, e.g. {folder.Ignored[0]}");
        Directory.CreateDirectory(o.Out);
        ImageFolderData data;
        try
        {
            data = folder.Load(prep.LoadOptions() with
            {
                SkipBadImages = o.SkipBadImages, CacheDirectory = o.Out, Cancellation = cancel,
                Progress = display.Counter($"decoding {total} images", total),
                Warning = line => display.Line("warning: " + line),
            });
        }
        catch (DataException e) when (!o.SkipBadImages)
        {
            throw new CliException($"{e.Message}; --skip-bad-images leaves out files that cannot be decoded");
        }
        try
        {
            var missing = Enumerable.Range(0, folder.Classes.Count).Where(c => !Enumerable.Range(0, data.Train.Count).Any(i => data.Images.LabelAt(data.Train.Indices[i]) == c)).ToList();
            if (missing.Count > 0)
                throw new CliException($"{dir}: class(es) {string.Join(", ", missing.Select(c => folder.Classes[c]))} have no readable training images");
            var test = data.Test.Count > 0 ? data.Test : data.Validation;
            if (test.Count == 0)
                throw new CliException($"{dir}: {data.Images.Count} images in {folder.Classes.Count} classes are too few to hold any out for testing; add images or raise --test-fraction");
            string held = data.Test.Count > 0 ? "" : " (no test images: the validation images are the test set)";
            return new RunData(data.Train, data.Validation, test, folder.Classes, dir + held, true, data.Images.Skipped.Count, data,
                folder.HasSplitFolders ? null : o.ValidationFraction, folder.HasSplitFolders ? null : o.TestFraction);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static int Train(FinetuneOptions o, ImagePreprocessing prep, RunData data, Sequential net, OnnxModel backbone, int tuneEpochs, int? unfreeze,
        Device device, string modelPath, Display display, TextWriter output, CancellationToken cancel, ProcessGroup? group)
    {
        var classes = data.Classes;
        int ranks = group?.Size ?? 1, rank = group?.Rank ?? 0;
        net.To(device);
        var evaluation = prep.Evaluation();
        // under mpirun each process takes its slice of every batch (DataLoader.Shard)
        DataLoader Loader(IDataset d, ITransform t, bool shuffle) => new(d, o.BatchSize / ranks, shuffle: shuffle, seed: o.Seed, transform: t) { Shard = (rank, ranks) };
        ITransform TrainTransform() => data.ImageFolder && o.Augment ? prep.Training(o.Seed) : prep.Evaluation();
        var loss = new CrossEntropyLoss();
        using var run = RunFolder.Begin(o.Out);
        display.Line($"fine-tuning {Path.GetFileName(modelPath)} on {data.Description}: {data.Train.Count} train, {data.Validation.Count} validation, " +
                     $"{data.Test.Count} test images at {o.ImageSize}x{o.ImageSize}, batch {o.BatchSize}, seed {o.Seed}");
        display.Line($"backbone: {backbone.Cut ?? "used whole (its output is the features)"}; preprocessing: {Describe(prep)}" +
                     (data.ImageFolder ? $"; {(o.Augment ? "random resized crops and flips" : "centre crops")} for training" : ""));
        if (!o.Quiet) display.Line(net.Summary(1, 3, o.ImageSize, o.ImageSize).TrimEnd());

        var config = new RunConfig
        {
            Model = ModelName, Classes = [.. classes], InputShape = [3, o.ImageSize, o.ImageSize], NormalizeMean = prep.Mean, NormalizeStd = prep.Std,
            Color = RunConfig.Describe(prep).Color, ResizeTo = RunConfig.Describe(prep).ResizeTo, Seed = o.Seed, Optimizer = "adam",
            LearningRate = o.LearningRate, Epochs = o.HeadEpochs + tuneEpochs, BatchSize = o.BatchSize,
            Data = o.Data is null ? null : Path.GetFullPath(o.Data), Backbone = o.ModelPath is null ? null : Path.GetFullPath(o.ModelPath),
            Cut = o.Cut, Dropout = o.Dropout > 0 ? o.Dropout : null, ValidationFraction = data.ValidationFraction, TestFraction = data.TestFraction,
        };
        void SaveRun()
        {
            net.Save(run.File("model.safetensors"));
            config.Save(run.File("config.json"));
        }

        // pretrained: frozen backbone + new head, then the last stage(s) too
        var clock = Stopwatch.StartNew();
        var options = new FineTuneOptions
        {
            Verbose = false,
            Group = group,
            HeadEpochs = o.HeadEpochs, TuneEpochs = tuneEpochs, HeadLearningRate = o.LearningRate, BodyLearningRate = o.BodyLearningRate,
            UnfreezeStages = unfreeze, UpdateBatchNormStatistics = o.BatchNorm == "update",
        };
        var bars = new Dictionary<int, IProgress<TrainingProgress>?>();
        var progress = new Display.Sync<FineTuneProgress>(p =>
        {
            if (!bars.TryGetValue(p.Phase, out var bar)) bars[p.Phase] = bar = display.Training(p.Phase == 1 ? "head" : "tuning");
            bar?.Report(p.Training);
        });
        int stageCount = FineTuning.Stages(backbone).Count;
        var phaseLines = new PhaseLines(display, o.HeadEpochs, unfreeze is null || unfreeze >= stageCount ? $"all {stageCount} stages" : unfreeze == 1 ? "last stage" : $"last {unfreeze} of {stageCount} stages",
            options.BodyLearningRate ?? o.LearningRate / 10, options.UpdateBatchNormStatistics);
        ICallback[] callbacks =
        [
            new CsvLog(run.File("metrics.csv")), new TensorBoardLog(run.File("tensorboard")),
            new ModelCheckpoint(run.File("best.safetensors"), Monitored.ValAccuracy), phaseLines,
        ];
        FineTuneResult result;
        try
        {
            result = FineTuning.Fit(net, loss, Loader(data.Train, TrainTransform(), true), Loader(data.Validation, evaluation, false), options, callbacks, progress, cancel);
        }
        catch (OperationCanceledException)
        {
            SaveRun();
            run.Commit();
            display.Line($"interrupted: the weights after the last finished step are in {run.Where("model.safetensors")} (with config.json)");
            return Interrupt.ExitCode;
        }
        catch (NonFiniteLossException e)
        {
            string folder = run.Fail();
            throw new CliException($"pretrained run: {e.Message}; its metrics and best checkpoint are in {folder}" +
                                   (folder != o.Out ? $", and the run already in {o.Out} is unchanged" : ""));
        }
        var pretrained = Trainer.Evaluate(net, loss, Loader(data.Test, evaluation, false), group);
        double pretrainedSeconds = clock.Elapsed.TotalSeconds;
        SaveRun();
        string? exported = null;
        try { OnnxExport.Save(net, [3, o.ImageSize, o.ImageSize], run.File("model.onnx")); exported = "model.onnx"; }
        catch (OnnxException e) { display.Line($"warning: no model.onnx: {e.Message}"); }
        ConfusionPlot.Save(pretrained.Confusion, classes, run.File("confusion.png"), "Test images, fine-tuned");
        display.Line($"pretrained: test accuracy {pretrained.Accuracy:P2} on {pretrained.Samples} images ({pretrainedSeconds:F1} s)");
        if (!o.Quiet) ShowExamples(net, Loader(data.Test, evaluation, false), classes, display);

        // the same network and budget from random initialisation
        Evaluation? scratch = null;
        TrainingHistory? scratchHistory = null;
        double scratchSeconds = 0;
        bool interrupted = false;
        if (!o.SkipScratch)
        {
            clock.Restart();
            var (scratchNet, fresh) = CreateNet(o.ModelPath, o.Cut, o.ImageSize, classes.Count, o.Dropout, new Generator(o.Seed));
            fresh.ResetParameters(new Generator(o.Seed + 7));
            scratchNet.To(device);
            using var opt = new Adam(scratchNet.Parameters(), o.LearningRate);
            using var scratchParallel = ranks > 1 ? new DistributedDataParallel(scratchNet, group!) : null;
            var lines = new EpochAction((_, m) => display.Line($"scratch epoch {m.Epoch}: {Common.EpochLine(m)}"));
            try
            {
                scratchHistory = Trainer.Fit(scratchNet, loss, opt, Loader(data.Train, TrainTransform(), true), o.HeadEpochs + tuneEpochs,
                    Loader(data.Validation, evaluation, false), [lines], display.Training("scratch"), cancel, verbose: false, distributed: scratchParallel);
                scratch = Trainer.Evaluate(scratchNet, loss, Loader(data.Test, evaluation, false), group);
            }
            catch (OperationCanceledException)
            {
                interrupted = true;
                display.Line("interrupted: the from-scratch comparison was stopped; the fine-tuned run is saved");
            }
            catch (NonFiniteLossException e)
            {
                // the fine-tuned network is complete: it is kept, the comparison is not
                run.Commit();
                throw new CliException($"scratch run: {e.Message}; the fine-tuned run is saved in {o.Out}");
            }
            scratchSeconds = clock.Elapsed.TotalSeconds;
        }
        CurvePlot.Save(scratchHistory is null ? [("pretrained", result.History)] : [("pretrained", result.History), ("scratch", scratchHistory)],
            run.File("curves.png"), result.HeadEpochs);
        run.Commit();
        if (interrupted) return Interrupt.ExitCode;

        output.WriteLine($"pretrained {Path.GetFileNameWithoutExtension(modelPath)} (head, then {phaseLines.What}): test accuracy {pretrained.Accuracy:P2}");
        if (scratch is not null)
            output.WriteLine($"same network from scratch, same data and epochs:   test accuracy {scratch.Accuracy:P2}");
        if (data.Skipped > 0) output.WriteLine($"{data.Skipped} image(s) that could not be decoded were skipped");
        if (!o.Quiet)
            output.WriteLine($"wrote model.safetensors, best.safetensors, config.json, {(exported is null ? "" : "model.onnx, ")}metrics.csv, tensorboard/, confusion.png and curves.png in {o.Out}");
        if (o.Json)
            output.WriteLine(Common.Json(new
            {
                pretrained_test_accuracy = pretrained.Accuracy, scratch_test_accuracy = scratch?.Accuracy,
                seconds = Math.Round(pretrainedSeconds + scratchSeconds, 3), pretrained_seconds = Math.Round(pretrainedSeconds, 3),
                scratch_seconds = Math.Round(scratchSeconds, 3), classes, train_images = data.Train.Count, validation_images = data.Validation.Count,
                test_images = data.Test.Count, skipped_images = data.Skipped, image_size = o.ImageSize, backbone = Path.GetFileName(modelPath),
                cut = backbone.Cut, @out = o.Out, world_size = ranks,
            }));
        return 0;
    }

    /// <summary>Three test images with their predicted and true classes.</summary>
    private static void ShowExamples(Module net, DataLoader test, IReadOnlyList<string> classes, Display display)
    {
        using var scope = Tensor.Scope();
        using var batch = test.First();
        int n = Math.Min(3, batch.Count), k = classes.Count;
        var probs = Trainer.PredictProbabilities(net, batch.Inputs.Narrow(0, 0, n)).To(Device.Cpu).ToArray<float>();
        var labels = batch.Labels.ToArray<long>();
        for (int i = 0; i < n; i++)
        {
            int best = Enumerable.Range(0, k).MaxBy(c => probs[i * k + c]);
            display.Line($"  test image {i}: predicted {classes[best]} ({probs[i * k + best]:P1}), true {classes[(int)labels[i]]}");
        }
    }

    /// <summary>A line per epoch, and one where phase 2 begins.</summary>
    private sealed class PhaseLines(Display display, int headEpochs, string what, double bodyRate, bool updateStatistics) : ICallback
    {
        public string What => what;

        public void OnTrainBegin(TrainerContext context)
        {
            if (context.History.Epochs.Count == 0) return;
            long trainable = context.Model.Parameters(trainableOnly: true).Sum(p => p.Numel);
            display.Line($"phase 2: {what} unfrozen ({trainable:N0} trainable parameters; stages at lr {bodyRate:G3}, " +
                         $"batch norms {(updateStatistics ? "on batch statistics" : "on their pretrained statistics")})");
        }

        public void OnEpochEnd(TrainerContext context, EpochMetrics m) =>
            display.Line($"phase {(m.Epoch <= headEpochs ? 1 : 2)} epoch {m.Epoch}: {Common.EpochLine(m)}");
    }
}
