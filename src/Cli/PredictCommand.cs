using System.CommandLine;
using System.Globalization;
using System.Text;
using Engine.Data;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>engine predict</c>: classifies image files, or every image in folders, with a run folder's model.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "a folder written by 'engine train' or 'engine finetune'", Required = true };
        var top = new Option<int>("--top") { Description = "classes shown per image", DefaultValueFactory = _ => 3 };
        var csv = new Option<string?>("--csv") { Description = "write every image's class probabilities to this CSV file (default for folders: predictions.csv)" };
        var json = new Option<bool>("--json") { Description = "end with one JSON line" };
        var images = new Argument<string[]>("images") { Description = "image files (PNG, JPEG, BMP, GIF) or folders of them", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Print the most likely classes of each image, with their probabilities");
        foreach (var o in new Option[] { modelDir, top, csv, json }) command.Options.Add(o);
        command.Arguments.Add(images);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(p.GetValue(modelDir)!, p.GetValue(images)!, p.GetValue(json), Console.Out, p.GetValue(top), p.GetValue(csv))));
        return command;
    }

    /// <summary>Images per forward pass.</summary>
    private const int Batch = 32;

    public static int Run(string modelDir, string[] images, bool json, TextWriter output, int top = 3, string? csv = null)
    {
        if (top < 1) throw new CliException($"--top {top} must be at least 1");
        var (model, config) = EvalCommand.LoadModel(modelDir);
        var prep = config.Preprocessing();
        // the files: those named, and every image under the folders named (in name order)
        var files = new List<(string Path, bool Named)>();
        bool folders = false;
        foreach (var arg in images)
        {
            if (Directory.Exists(arg))
            {
                folders = true;
                var found = ImageFolder.Files(arg).Where(ImageDecoder.HasImageExtension).ToList();
                if (found.Count == 0) throw new CliException($"{arg}: no images ({string.Join(", ", ImageDecoder.Extensions)}) in this folder");
                files.AddRange(found.Select(f => (f, false)));
            }
            else if (File.Exists(arg)) files.Add((arg, true));
            else throw new CliException($"{arg}: no such image file or folder");
        }
        csv ??= folders ? "predictions.csv" : null;
        int k = Math.Min(top, config.Classes.Length), failed = 0;
        var results = new List<object>();
        var rows = new StringBuilder("path,predicted,probability," + string.Join(",", config.Classes.Select(Csv)) + "\n");
        for (int start = 0; start < files.Count; start += Batch)
        {
            using var scope = Tensor.Scope();
            int n = Math.Min(Batch, files.Count - start);
            // decoding in parallel (bytes only), then one batch through the model
            var decoded = new DecodedImage?[n];
            var errors = new string?[n];
            Parallel.For(0, n, i =>
            {
                try { decoded[i] = prep.Decode(files[start + i].Path); }
                catch (DataException e) { errors[i] = e.Message; }
            });
            for (int i = 0; i < n; i++)
                if (errors[i] is { } e && files[start + i].Named) throw new CliException($"{e}; PNG, JPEG, BMP and GIF files are read");
            var ok = decoded.Where(d => d is not null).Select(d => d!).ToList();
            float[] probabilities = [];
            if (ok.Count > 0)
            {
                var x = Tensor.Concat([.. ok.Select(d => d.ToTensor())], 0);
                probabilities = Trainer.PredictProbabilities(model, prep.Evaluation().Apply(x)).To(Device.Cpu).ToArray<float>();
            }
            int c = config.Classes.Length;
            for (int i = 0, row = 0; i < n; i++)
            {
                string path = files[start + i].Path;
                if (errors[i] is { } e)
                {
                    failed++;
                    output.WriteLine($"{path}: skipped: {e}");
                    continue;
                }
                var p = probabilities.AsSpan(row++ * c, c).ToArray();
                var best = p.Select((v, j) => (P: v, Class: j)).OrderByDescending(t => t.P).Take(k).ToList();
                output.WriteLine($"{path}: " + string.Join(", ", best.Select(t => $"{config.Classes[t.Class]} {t.P:P1}")));
                results.Add(new { image = path, top = best.Select(t => new { @class = config.Classes[t.Class], probability = t.P }) });
                rows.Append(Csv(path)).Append(',').Append(Csv(config.Classes[best[0].Class])).Append(',').Append(best[0].P.ToString("R", CultureInfo.InvariantCulture))
                    .Append(',').AppendJoin(',', p.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
            }
        }
        if (csv is not null)
        {
            AtomicFile.WriteAllText(csv, rows.ToString());
            output.WriteLine($"wrote {csv} ({files.Count - failed} images{(failed > 0 ? $"; {failed} could not be decoded" : "")})");
        }
        else if (failed > 0) output.WriteLine($"{failed} image(s) could not be decoded");
        if (json) output.WriteLine(Common.Json(new { model = config.Model, predictions = results, skipped = failed, csv }));
        return 0;
    }

    /// <summary>A CSV field: quoted when it holds a comma, a quote or a line break.</summary>
    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
