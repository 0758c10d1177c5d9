using System.Text.Json;
using Engine.Cli;
using Engine.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Engine.Tests;

/// <summary>
/// <c>engine finetune --data DIR</c> on folders of images made from the embedded subset, then the run
/// folder through <c>predict</c> and <c>eval</c> by class name, and its model.onnx in ONNX Runtime.
/// </summary>
[Collection(nameof(MemoryCollection))]
public sealed class ImageFolderCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-folder-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Finetune(FinetuneOptions o, CancellationToken stop = default)
    {
        var w = new StringWriter();
        int code = CliGuard.Run(w, () => FinetuneCommand.Run(o, w, stop));
        return (code, w.ToString());
    }

    private static FinetuneOptions Small(string data, string output) =>
        new(Data: data, Out: output, ImageSize: 32, HeadEpochs: 1, TuneEpochs: 1, BatchSize: 8, Seed: 1, Json: true);

    [Fact]
    public void Fine_tunes_on_an_image_folder_and_its_run_predicts_evaluates_and_deploys()
    {
        string data = Path.Combine(_dir, "photos"), run = Path.Combine(_dir, "run");
        var names = TestImages.FashionFolder(data, classes: 3, perClass: 12);
        var (code, text) = Finetune(Small(data, run));
        Assert.True(code == 0, text);
        var json = JsonDocument.Parse(text.TrimEnd().Split('\n')[^1]).RootElement;
        string[] classes = [.. names.Order(StringComparer.Ordinal)];
        Assert.Equal(classes, json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        int train = json.GetProperty("train_images").GetInt32(), val = json.GetProperty("validation_images").GetInt32(), test = json.GetProperty("test_images").GetInt32();
        Assert.Equal((36, 6, 6), (train + val + test, val, test));                          // 2 of each class's 12 for validation, 2 for test
        Assert.InRange(json.GetProperty("pretrained_test_accuracy").GetDouble(), 0, 1);
        Assert.InRange(json.GetProperty("scratch_test_accuracy").GetDouble(), 0, 1);
        Assert.Contains("phase 2: last stage unfrozen", text);
        foreach (var f in new[] { "model.safetensors", "best.safetensors", "config.json", "model.onnx", "metrics.csv", "confusion.png", "curves.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "tensorboard")));
        Assert.Equal(["1", "2"], File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => l.Split(',')[0]));
        Assert.Empty(Directory.GetFiles(run, "*.u8"));                                        // no pixel cache left behind
        var config = RunConfig.Load(Path.Combine(run, "config.json"));
        Assert.Equal(classes, config.Classes);
        Assert.Equal(("bgr", 37), (config.Color, config.ResizeTo!.Value));

        // predict by name: one file, then a folder into a CSV
        string image = Directory.GetFiles(Path.Combine(data, names[1]), "*.jpg")[0];
        var p = new StringWriter();
        Assert.Equal(0, CliGuard.Run(p, () => PredictCommand.Run(run, [image], true, p, top: 2)));
        var first = p.ToString().Split('\n')[0];
        Assert.StartsWith(image + ": ", first);
        Assert.Equal(2, classes.Count(c => first.Contains(c + " ")));
        string csv = Path.Combine(_dir, "predictions.csv");
        var q = new StringWriter();
        Assert.Equal(0, CliGuard.Run(q, () => PredictCommand.Run(run, [Path.Combine(data, names[0])], false, q, csv: csv)));
        var rows = File.ReadAllLines(csv);
        Assert.Equal("path,predicted,probability," + string.Join(",", classes), rows[0]);
        Assert.Equal(12, rows.Length - 1);
        Assert.All(rows.Skip(1), r => Assert.Contains(r.Split(',')[1], classes));
        Assert.All(rows.Skip(1), r => Assert.Equal(1.0, r.Split(',').Skip(3).Sum(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), 4));

        // eval: the run's own held-out test images by default, with class names
        var e = new StringWriter();
        Assert.Equal(0, CliGuard.Run(e, () => EvalCommand.Run(run, null, true, e)));
        string evalText = e.ToString();
        Assert.Contains($"on 6 images of the run's held-out test split of {Path.GetFullPath(data)}", evalText);
        Assert.Contains("confusion matrix (rows: true class, columns: predicted class)", evalText);
        foreach (var c in classes) Assert.Contains("  " + c, evalText);
        var evalJson = JsonDocument.Parse(evalText.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(json.GetProperty("pretrained_test_accuracy").GetDouble(), evalJson.GetProperty("test_accuracy").GetDouble(), 12);
        // another folder with its own test/ split, holding two of the classes
        string other = Path.Combine(_dir, "other");
        TestImages.FashionFolder(other, classes: 2, perClass: 4, splits: ["train", "test"], offset: 20);
        var o2 = new StringWriter();
        Assert.Equal(0, CliGuard.Run(o2, () => EvalCommand.Run(run, other, false, o2)));
        Assert.Contains($"on 8 images of the test images of {other}", o2.ToString());

        // the deployed model.onnx computes what the run's model does, in ONNX Runtime
        var (model, cfg) = EvalCommand.LoadModel(run);
        using var scope = Tensor.Scope();
        var x = Tensor.Concat([cfg.Preprocessing().Load(image), cfg.Preprocessing().Load(Directory.GetFiles(Path.Combine(data, names[2]), "*.png")[0])], 0);
        float[] ours;
        using (GradMode.NoGrad()) ours = model.Call(new Variable(x)).Data.ToArray<float>();
        using var session = new InferenceSession(Path.Combine(run, "model.onnx"));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), [2, 3, 32, 32]))]);
        var theirs = results.First().AsEnumerable<float>().ToArray();
        Assert.Equal(6, theirs.Length);
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-4 * (1 + Math.Abs(theirs[i])), $"element {i}: ours {ours[i]}, onnxruntime {theirs[i]}");
    }

    [Fact]
    public void A_bad_image_stops_the_run_naming_it_unless_bad_images_are_skipped()
    {
        string data = Path.Combine(_dir, "bad"), run = Path.Combine(_dir, "bad-run");
        var names = TestImages.FashionFolder(data, classes: 2, perClass: 8);
        string broken = Path.Combine(data, names[1], "broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 1, 1, 0, 0, 1, 0, 1, 0]);
        var (code, text) = Finetune(Small(data, run) with { Json = false, Quiet = true });
        Assert.Equal(2, code);
        Assert.Single(text.Trim().Split('\n'));
        Assert.StartsWith($"error: {broken}: truncated JPEG", text);
        Assert.Contains("--skip-bad-images leaves out files that cannot be decoded", text);
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors")));

        var (ok, skipped) = Finetune(Small(data, run) with { SkipBadImages = true, SkipScratch = true });
        Assert.True(ok == 0, skipped);
        Assert.Contains($"warning: skipped {broken}: truncated JPEG", skipped);
        Assert.Contains("1 image(s) that could not be decoded were skipped", skipped);
        Assert.Equal(1, JsonDocument.Parse(skipped.TrimEnd().Split('\n')[^1]).RootElement.GetProperty("skipped_images").GetInt32());
    }

    [Fact]
    public void Folder_and_option_mistakes_are_one_line_each()
    {
        string single = Path.Combine(_dir, "single"), empty = Path.Combine(_dir, "empty"), good = Path.Combine(_dir, "good"), run = Path.Combine(_dir, "r");
        TestImages.FashionFolder(single, classes: 1, perClass: 3);
        TestImages.FashionFolder(empty, classes: 2, perClass: 3);
        TestImages.FashionFolder(good, classes: 2, perClass: 3);
        Directory.CreateDirectory(Path.Combine(empty, "Zebra"));
        foreach (var (o, expected) in new (FinetuneOptions, string)[]
        {
            (Small(single, run), "only one class folder (T-shirt-top)"),
            (Small(empty, run), "class 'Zebra' holds no images"),
            (Small(Path.Combine(_dir, "none"), run), "none: no such data folder"),
            (Small(good, run) with { Unfreeze = "some" }, "--unfreeze some: last, all, or a number of stages"),
            (Small(good, run) with { BatchNorm = "train" }, "--bn-stats train: frozen or update"),
            (Small(good, run) with { Cut = "nowhere" }, "cut 'nowhere': no node or tensor of that name"),
            (Small(good, run) with { ChannelOrder = "grb" }, "--channel-order grb: rgb or bgr"),
        })
        {
            var (code, text) = Finetune(o);
            Assert.True(code == 2, text);
            Assert.Single(text.Trim().Split('\n'));
            Assert.Contains(expected, text);
        }
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void A_stop_request_saves_a_loadable_checkpoint_and_exits_130()
    {
        string data = Path.Combine(_dir, "stop"), run = Path.Combine(_dir, "stop-run");
        TestImages.FashionFolder(data, classes: 2, perClass: 10);
        using var stop = new CancellationTokenSource();
        var output = new Watch("phase 1 epoch 1:", stop);
        int code = CliGuard.Run(output, () => FinetuneCommand.Run(Small(data, run) with { HeadEpochs = 3, Json = false }, output, stop.Token));
        Assert.Equal(130, code);
        Assert.Contains("interrupted: the weights after the last finished step are in", output.ToString());
        Assert.DoesNotContain("phase 1 epoch 2:", output.ToString());
        var (model, config) = EvalCommand.LoadModel(run);
        Assert.Equal(2, config.Classes.Length);
        Assert.Equal(2, model.Parameters().Last().Shape[0]);
    }

    /// <summary>Output that signals a stop once a given text has been written (what Ctrl-C does in a terminal).</summary>
    private sealed class Watch(string trigger, CancellationTokenSource stop) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.Contains(trigger) == true) stop.Cancel();
        }
    }
}
