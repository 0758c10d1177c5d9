using System.CommandLine;
using Engine.Data;
using Engine.Layers;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>engine eval</c>: evaluates a run folder's model on test images.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "a folder written by 'engine train' or 'engine finetune'", Required = true };
        var data = new Option<string?>("--data") { Description = "a folder of images (DIR/<class>/…, or its test/ or val/ split) or of Fashion-MNIST IDX files; default: the run's own test images" };
        var skipBad = new Option<bool>("--skip-bad-images") { Description = "leave out images that cannot be decoded instead of stopping" };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var command = new Command("eval", "Evaluate a trained model: accuracy, per-class accuracy and the confusion matrix, with class names");
        foreach (var o in new Option[] { modelDir, data, skipBad, json }) command.Options.Add(o);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(p.GetValue(modelDir)!, p.GetValue(data), p.GetValue(json), Console.Out, p.GetValue(skipBad))));
        return command;
    }

    /// <summary>Rebuilds the model from config.json and model.safetensors.</summary>
    public static (Module Model, RunConfig Config) LoadModel(string modelDir)
    {
        if (!Directory.Exists(modelDir)) throw new CliException($"{modelDir}: no such model folder");
        string path = Path.Combine(modelDir, "config.json");
        var config = RunConfig.Load(path);
        var model = Common.CreateModel(config, path);
        Common.LoadCheckpoint(model, Path.Combine(modelDir, "model.safetensors"), $"config.json ({config.Classes.Length} classes)");
        model.Eval();
        return (model, config);
    }

    public static int Run(string modelDir, string? data, bool json, TextWriter output, bool skipBadImages = false)
    {
        var (model, config) = LoadModel(modelDir);
        var (set, what, owner) = TestImages(config, data, skipBadImages, output);
        using var _ = owner;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var test = Trainer.Evaluate(model, new CrossEntropyLoss(), new DataLoader(set, 64, transform: config.Preprocessing().Evaluation()));
        double seconds = sw.Elapsed.TotalSeconds;
        output.WriteLine($"{config.Model}: test accuracy {test.Accuracy:P2}, top-5 {test.Top5:P2}, loss {test.Loss:F4} on {test.Samples} images of {what} ({seconds:F1} s)");
        var perClass = test.PerClassAccuracy;
        int width = Math.Max(12, config.Classes.Max(c => c.Length));
        for (int c = 0; c < perClass.Length; c++)
            output.WriteLine($"  {config.Classes[c].PadRight(width)} {(double.IsNaN(perClass[c]) ? "(no images)" : perClass[c].ToString("P1"))}");
        output.Write(ConfusionText(test.Confusion, config.Classes));
        if (json)
            output.WriteLine(Common.Json(new
            {
                model = config.Model, test_accuracy = test.Accuracy, test_loss = test.Loss, top5_accuracy = test.Top5, images = test.Samples,
                per_class_accuracy = config.Classes.Select((c, i) => new { @class = c, accuracy = double.IsNaN(perClass[i]) ? (double?)null : perClass[i] }),
                confusion = Enumerable.Range(0, test.Confusion.GetLength(0)).Select(i => Enumerable.Range(0, test.Confusion.GetLength(1)).Select(j => test.Confusion[i, j])),
                epochs = config.Epochs, seconds = Math.Round(seconds, 3), samples_per_second = Math.Round(test.Samples / seconds, 1),
            }));
        return 0;
    }

    /// <summary>The confusion matrix as text: a row per true class with its name, a column per predicted class headed by its name's start.</summary>
    internal static string ConfusionText(long[,] confusion, IReadOnlyList<string> classes)
    {
        int n = confusion.GetLength(0);
        int name = Math.Max(12, classes.Max(c => c.Length));
        int cell = Math.Max(6, confusion.Cast<long>().DefaultIfEmpty(0).Max().ToString().Length + 1);
        var sb = new System.Text.StringBuilder("confusion matrix (rows: true class, columns: predicted class):\n");
        sb.Append("  ").Append(new string(' ', name));
        for (int j = 0; j < n; j++) sb.Append(' ').Append(Abbreviate(classes[j], cell - 1).PadLeft(cell - 1));
        sb.Append('\n');
        for (int i = 0; i < n; i++)
        {
            sb.Append("  ").Append(classes[i].PadRight(name));
            for (int j = 0; j < n; j++) sb.Append(confusion[i, j].ToString().PadLeft(cell));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Abbreviate(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";

    /// <summary>
    /// The images to evaluate on, with their labels in the model's class order: Fashion-MNIST's test set
    /// for an IDX folder (or the embedded subset); for an image folder, the run's own test split when it
    /// is the folder the run trained on, else its test/ (or val/) folder, else every image in it.
    /// </summary>
    private static (IDataset Set, string What, IDisposable Owner) TestImages(RunConfig config, string? data, bool skipBadImages, TextWriter output)
    {
        string? dir = data ?? config.Data;
        if (dir is not null && !Directory.Exists(dir)) throw new CliException($"{dir}: no such data folder");
        if (dir is null || FashionMnist.HasFiles(dir))
        {
            if (!config.Classes.SequenceEqual(FashionMnist.ClassNames))
                throw new CliException($"{dir ?? "the embedded subset"}: Fashion-MNIST's 10 classes are not this model's ({Common.ClassList(config.Classes)}); pass --data with a folder of its classes");
            var (train, test) = Common.LoadData(dir);
            train.Dispose();
            return (test, dir is null ? "the embedded Fashion-MNIST test set" : $"the Fashion-MNIST test set in {dir}", test);
        }
        bool own = config.Data is not null && Path.GetFullPath(dir) == Path.GetFullPath(config.Data);
        var split = own
            ? new ImageFolderOptions { ValidationFraction = config.ValidationFraction ?? 0.15, TestFraction = config.TestFraction ?? 0.15, Seed = config.Seed }
            : new ImageFolderOptions { ValidationFraction = 0, TestFraction = 0 };
        var folder = ImageFolder.Scan(dir, split);
        var (files, what) = folder.Test.Count > 0 ? (folder.Test, own && !folder.HasSplitFolders ? $"the run's held-out test split of {dir}" : $"the test images of {dir}")
            : folder.Validation.Count > 0 ? (folder.Validation, $"the validation images of {dir}")
            : (folder.Train, $"{dir}");
        // labels by class name, in the model's order
        var index = config.Classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i);
        foreach (var c in folder.Classes.Where(c => !index.ContainsKey(c)))
            throw new CliException($"{Path.Combine(dir, c)}: class '{c}' is not one of the model's classes ({Common.ClassList(config.Classes)})");
        var relabelled = files.Select(f => f with { Label = index[folder.Classes[f.Label]] }).ToList();
        var set = ImageDataset.Load(relabelled, config.Preprocessing().LoadOptions() with
        {
            SkipBadImages = skipBadImages, Warning = line => output.WriteLine("warning: " + line),
        });
        return (set, what, set);
    }
}
