using System.CommandLine;
using Engine.Data;
using Engine.Layers;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>engine eval</c>: evaluates a trained model folder on the test set.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "a folder written by 'engine train'", Required = true };
        var data = new Option<string?>("--data") { Description = "folder of Fashion-MNIST IDX files (default: the embedded subset)" };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var command = new Command("eval", "Evaluate a trained model on the test set: accuracy, per-class accuracy, confusion matrix");
        foreach (var o in new Option[] { modelDir, data, json }) command.Options.Add(o);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(p.GetValue(modelDir)!, p.GetValue(data), p.GetValue(json), Console.Out)));
        return command;
    }

    /// <summary>Rebuilds the model from config.json and model.safetensors.</summary>
    public static (Module Model, RunConfig Config) LoadModel(string modelDir)
    {
        if (!Directory.Exists(modelDir)) throw new CliException($"{modelDir}: no such model folder");
        var config = RunConfig.Load(Path.Combine(modelDir, "config.json"));
        var model = Common.CreateModel(config.Model, classes: config.Classes.Length);
        Common.LoadCheckpoint(model, Path.Combine(modelDir, "model.safetensors"), $"config.json ({config.Classes.Length} classes)");
        model.Eval();
        return (model, config);
    }

    public static int Run(string modelDir, string? data, bool json, TextWriter output)
    {
        var (model, config) = LoadModel(modelDir);
        var (_, testSet) = Common.LoadData(data);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var test = Trainer.Evaluate(model, new CrossEntropyLoss(), new DataLoader(testSet, 512, transform: Common.Normalization(config)));
        double seconds = sw.Elapsed.TotalSeconds;
        output.WriteLine($"{config.Model}: test accuracy {test.Accuracy:P2}, top-5 {test.Top5:P2}, loss {test.Loss:F4} on {test.Samples} images ({seconds:F1} s)");
        var perClass = test.PerClassAccuracy;
        for (int c = 0; c < perClass.Length; c++)
            output.WriteLine($"  {config.Classes[c],-12} {perClass[c]:P1}");
        output.WriteLine("confusion matrix (rows: true class, columns: predicted):");
        for (int i = 0; i < test.Confusion.GetLength(0); i++)
            output.WriteLine("  " + string.Join(" ", Enumerable.Range(0, test.Confusion.GetLength(1)).Select(j => test.Confusion[i, j].ToString().PadLeft(4))));
        if (json)
            output.WriteLine(Common.Json(new
            {
                model = config.Model, test_accuracy = test.Accuracy, test_loss = test.Loss, epochs = config.Epochs,
                seconds = Math.Round(seconds, 3), samples_per_second = Math.Round(test.Samples / seconds, 1),
            }));
        return 0;
    }
}
