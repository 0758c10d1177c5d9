using System.IO.Compression;
using System.Text.Json;
using Engine.Cli;

namespace Engine.Tests;

/// <summary>engine train, eval and predict end to end, and their errors: one clear line, exit code 2, nothing overwritten.</summary>
[Collection(nameof(MemoryCollection))]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "engine-cli-" + Guid.NewGuid().ToString("N"));

    public CliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Output) Train(TrainOptions o)
    {
        var w = new StringWriter();
        int code = CliGuard.Run(w, () => TrainCommand.Run(o, w));
        return (code, w.ToString());
    }

    [Fact]
    public void Quiet_train_prints_only_its_result_and_quiet_json_only_the_json()
    {
        var (code, text) = Train(new TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 512, Out: Path.Combine(_dir, "quiet"), Quiet: true));
        Assert.Equal(0, code);
        var lines = text.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("test accuracy ", lines[0]);
        Assert.StartsWith("wrote ", lines[1]);

        (code, text) = Train(new TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 512, Out: Path.Combine(_dir, "quiet-json"), Quiet: true, Json: true));
        Assert.Equal(0, code);
        Assert.Single(text.TrimEnd().Split('\n'));
        Assert.True(JsonDocument.Parse(text).RootElement.TryGetProperty("test_accuracy", out _));
    }

    [Fact]
    public void Train_eval_and_predict_a_model_end_to_end()
    {
        string outDir = Path.Combine(_dir, "run");
        var (code, text) = Train(new TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 256, Out: outDir, Json: true, Quiet: true));
        Assert.Equal(0, code);
        var json = JsonDocument.Parse(text.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.True(json.GetProperty("test_accuracy").GetDouble() > 0.6);
        foreach (var key in new[] { "test_loss", "epochs", "seconds", "samples_per_second" }) Assert.True(json.TryGetProperty(key, out _), key);
        foreach (var file in new[] { "model.safetensors", "config.json", "metrics.csv", "curves.png", "best.safetensors" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);

        var w = new StringWriter();
        Assert.Equal(0, CliGuard.Run(w, () => EvalCommand.Run(outDir, null, true, w)));
        var eval = JsonDocument.Parse(w.ToString().TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(json.GetProperty("test_accuracy").GetDouble(), eval.GetProperty("test_accuracy").GetDouble(), 12);
        Assert.Contains("confusion matrix", w.ToString());

        string png = Path.Combine(_dir, "shoe.png");
        File.WriteAllBytes(png, GreyPng(40, 30));
        var p = new StringWriter();
        Assert.Equal(0, CliGuard.Run(p, () => PredictCommand.Run(outDir, [png], true, p)));
        Assert.Contains("%", p.ToString().Split('\n')[0]);
        var pred = JsonDocument.Parse(p.ToString().TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(3, pred.GetProperty("predictions")[0].GetProperty("top").GetArrayLength());
    }

    [Fact]
    public void Bad_input_gives_one_line_and_exit_code_2()
    {
        Assert.Contains("unknown model 'vgg'", Expect2(Train(new TrainOptions(Model: "vgg", Out: Path.Combine(_dir, "a")))));
        Assert.Contains("unknown optimizer 'lbfgs'", Expect2(Train(new TrainOptions(Optimizer: "lbfgs", Out: Path.Combine(_dir, "a")))));
        Assert.Contains("no such data folder", Expect2(Train(new TrainOptions(Data: Path.Combine(_dir, "nowhere"), Out: Path.Combine(_dir, "a")))));
        Assert.Contains("cuda", Expect2(Train(new TrainOptions(Device: "cuda", Out: Path.Combine(_dir, "a")))));
        string corrupt = Path.Combine(_dir, "corrupt");
        Directory.CreateDirectory(corrupt);
        foreach (var f in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
            File.WriteAllBytes(Path.Combine(corrupt, f), [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Contains("bad magic number", Expect2(Train(new TrainOptions(Data: corrupt, Out: Path.Combine(_dir, "a")))));
    }

    [Fact]
    public void A_checkpoint_of_another_architecture_is_refused_by_name_and_shapes()
    {
        string outDir = Path.Combine(_dir, "run");
        Assert.Equal(0, Train(new TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 512, Out: outDir, Quiet: true)).Code);
        string config = Path.Combine(outDir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"mlp\"", "\"lenet\""));
        var w = new StringWriter();
        Assert.Equal(2, CliGuard.Run(w, () => EvalCommand.Run(outDir, null, false, w)));
        Assert.Contains("model.safetensors", w.ToString());
        Assert.Contains("missing", w.ToString());
        var png = Path.Combine(_dir, "not-an-image.png");
        File.WriteAllText(png, "hello");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"lenet\"", "\"mlp\""));
        var p = new StringWriter();
        Assert.Equal(2, CliGuard.Run(p, () => PredictCommand.Run(outDir, [png], false, p)));
        Assert.Contains("not-an-image.png: not a PNG, JPEG, BMP or GIF image", p.ToString());
        var before = File.ReadAllBytes(Path.Combine(outDir, "model.safetensors"));
        Expect2(Train(new TrainOptions(Model: "vgg", Out: outDir)));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "model.safetensors")));   // a failed run overwrites nothing
    }

    private static (int Code, string Output, string Error) Cli(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = EntryPoint.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("train --bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("train --epcohs 3", "did you mean '--epochs'?")]
    [InlineData("train --epochs x", "Cannot parse argument 'x' for option '--epochs'")]
    [InlineData("eval", "Option '--model-dir' is required")]
    [InlineData("frobnicate", "Unrecognized command or argument 'frobnicate'")]
    public void A_command_line_that_does_not_parse_is_one_line_and_exit_code_2(string line, string expected)
    {
        var (code, output, error) = Cli(line.Split(' '));
        Assert.Equal(2, code);
        Assert.Equal("", output);
        string[] lines = error.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.EndsWith("--help')", lines[0]);
    }

    [Fact]
    public void No_command_shows_the_commands_and_exits_2()
    {
        var (code, _, error) = Cli();
        Assert.Equal(2, code);
        foreach (var command in new[] { "train", "finetune", "eval", "predict" }) Assert.Contains(command, error);
    }

    [Fact]
    public void Sizes_devices_and_output_folders_are_checked_before_a_run_starts()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "not a folder");
        Assert.Contains($"--out {file}: is a file", Expect2(Train(new TrainOptions(Out: file))));
        Assert.Contains("cannot write there", Expect2(Train(new TrainOptions(Out: Path.Combine(file, "below")))));
        Assert.Equal("not a folder", File.ReadAllText(file));
        Assert.Contains("there is one CPU device", Expect2(Train(new TrainOptions(Device: "cpu:1", Out: Path.Combine(_dir, "a")))));
        Assert.Contains("--epochs 1000000000 is more than 1000000", Expect2(Train(new TrainOptions(Epochs: 1_000_000_000, Out: Path.Combine(_dir, "a")))));
        var steps = Expect2(Train(new TrainOptions(Model: "mlp", Epochs: 900_000, BatchSize: 1, Out: Path.Combine(_dir, "a"))));
        Assert.Contains("make 8100000000 steps, more than 2147483647", steps);
    }

    [Fact]
    public void A_batch_larger_than_the_data_trains_one_step_per_epoch()
    {
        string outDir = Path.Combine(_dir, "big-batch");
        var (code, text) = Train(new TrainOptions(Model: "mlp", Epochs: 2, BatchSize: int.MaxValue, Out: outDir, Quiet: true, Json: true));
        Assert.Equal(0, code);
        var metrics = File.ReadAllLines(Path.Combine(outDir, "metrics.csv"));
        Assert.Equal(3, metrics.Length);   // header and two epochs
        Assert.Equal(2, JsonDocument.Parse(text.TrimEnd().Split('\n')[^1]).RootElement.GetProperty("epochs").GetInt32());
    }

    [Fact]
    public void A_run_that_fails_leaves_the_earlier_run_whole_and_keeps_its_own_files_beside_it()
    {
        string outDir = Path.Combine(_dir, "run");
        Assert.Equal(0, Train(new TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 512, Out: outDir, Quiet: true)).Code);
        var before = Directory.GetFiles(outDir).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);
        // a learning rate that makes the loss NaN within a few steps
        var failed = Expect2(Train(new TrainOptions(Model: "mlp", Epochs: 2, BatchSize: 256, Optimizer: "sgd", LearningRate: 1e30, Out: outDir, Quiet: true)));
        Assert.Contains("NaN", failed);
        Assert.Contains($"the run already in {outDir} is unchanged", failed);
        var after = Directory.GetFiles(outDir).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
        string kept = Assert.Single(Directory.GetDirectories(outDir, "failed-*"));
        Assert.Contains(kept, failed);
        Assert.True(File.Exists(Path.Combine(kept, "metrics.csv")));
        Assert.Empty(Directory.GetDirectories(outDir, ".partial-*"));

        // into a new folder, the failed run's files land in the folder itself
        string fresh = Path.Combine(_dir, "fresh");
        Expect2(Train(new TrainOptions(Model: "mlp", Epochs: 2, BatchSize: 256, Optimizer: "sgd", LearningRate: 1e30, Out: fresh, Quiet: true)));
        Assert.True(File.Exists(Path.Combine(fresh, "metrics.csv")));
        Assert.Empty(Directory.GetDirectories(fresh, ".partial-*"));
    }

    [Fact]
    public void Staging_folders_of_killed_runs_are_removed_by_the_next_run()
    {
        string outDir = Path.Combine(_dir, "run");
        // a process id above the kernel's limit: no process has it, as for a run killed long ago
        string stale = Path.Combine(outDir, $".partial-{int.MaxValue - 1}-0123456789abcdef");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "metrics.csv"), "half a run");
        using var alive = System.Diagnostics.Process.Start("sleep", "60");
        string running = Path.Combine(outDir, $".partial-{alive.Id}-fedcba9876543210");
        Directory.CreateDirectory(running);
        try
        {
            Assert.Equal(0, Train(new TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 512, Out: outDir, Quiet: true)).Code);
            Assert.False(Directory.Exists(stale));
            Assert.True(Directory.Exists(running));
            Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));
        }
        finally { alive.Kill(); }
    }

    private static string Expect2((int Code, string Output) r)
    {
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: ", r.Output.TrimEnd().Split('\n')[^1]);
        return r.Output;
    }

    /// <summary>A valid grey PNG (8-bit, no filter) built from the format: signature, IHDR, IDAT (zlib), IEND.</summary>
    internal static byte[] GreyPng(int w, int h)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < w; x++) raw.WriteByte((byte)((x * 7 + y * 3) % 256));
        }
        var z = new MemoryStream();
        using (var zl = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) raw.WriteTo(zl);
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", [.. Be(w), .. Be(h), 8, 0, 0, 0, 0]);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();

        static byte[] Be(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
        static void Chunk(Stream s, string type, byte[] data)
        {
            s.Write(Be(data.Length));
            var td = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            s.Write(td);
            s.Write(Be((int)Crc32(td)));
        }
        static uint Crc32(byte[] d)
        {
            uint c = ~0u;
            foreach (byte b in d)
            {
                c ^= b;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            return ~c;
        }
    }
}
