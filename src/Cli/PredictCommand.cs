using System.CommandLine;
using Engine.Data;
using Engine.Training;
using StbImageSharp;

namespace Engine.Cli;

/// <summary><c>engine predict</c>: classifies image files with a trained model.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "a folder written by 'engine train'", Required = true };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var images = new Argument<string[]>("images") { Description = "PNG or JPEG files", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Print the three most likely classes of each image");
        command.Options.Add(modelDir);
        command.Options.Add(json);
        command.Arguments.Add(images);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(p.GetValue(modelDir)!, p.GetValue(images)!, p.GetValue(json), Console.Out)));
        return command;
    }

    /// <summary>A grey image scaled to [0, 1] as [1, 1, H, W] of the model's input size, resized bilinearly (the config's transform makes 3 channels where needed).</summary>
    public static Tensor LoadImage(string path, int[] inputShape)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no such image file");
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.Grey);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new CliException($"{path}: cannot decode the image ({e.Message}); PNG and JPEG are supported");
        }
        if (image is null || image.Data is null || image.Width < 1 || image.Height < 1)
            throw new CliException($"{path}: cannot decode the image; PNG and JPEG are supported");
        using var scope = Tensor.Scope();
        var pixels = ToTensor.FromBytes(image.Data, 1, 1, image.Height, image.Width);
        return scope.Keep(new Resize(inputShape[1], inputShape[2]).Apply(pixels));
    }

    public static int Run(string modelDir, string[] images, bool json, TextWriter output)
    {
        var (model, config) = EvalCommand.LoadModel(modelDir);
        var results = new List<object>();
        foreach (var path in images)
        {
            using var scope = Tensor.Scope();
            var x = Common.Normalization(config).Apply(LoadImage(path, config.InputShape));
            var p = Trainer.Predict(model, x).ToArray<float>();
            var top = p.Select((v, i) => (P: v, Class: i)).OrderByDescending(t => t.P).Take(3).ToList();
            output.WriteLine($"{path}: " + string.Join(", ", top.Select(t => $"{config.Classes[t.Class]} {t.P:P1}")));
            results.Add(new { image = path, top = top.Select(t => new { @class = config.Classes[t.Class], probability = t.P }) });
        }
        if (json) output.WriteLine(Common.Json(new { model = config.Model, predictions = results }));
        return 0;
    }
}
