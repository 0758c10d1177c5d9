using Engine.Cli;

namespace Engine.Tests;

/// <summary>config.json comes from outside (a run folder anyone may edit or damage): every damaged one is one clear error.</summary>
public sealed class RunConfigTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunConfig Valid() => new()
    {
        Model = "lenet", Classes = [.. Engine.Data.FashionMnist.ClassNames], InputShape = [1, 28, 28], NormalizeMean = [0.286], NormalizeStd = [0.353],
        Seed = 1, Optimizer = "adam", LearningRate = 3e-3, Epochs = 3, BatchSize = 32, Color = "grey",
    };

    [Theory]
    [InlineData("input_shape", "[3, 100000, 100000]", "input_shape [3, 100000, 100000] is not [1 or 3, side, side]")]
    [InlineData("input_shape", "[1, 28]", "input_shape [1, 28] is not")]
    [InlineData("color", "\"cmyk\"", "color 'cmyk' (grey, rgb or bgr)")]
    [InlineData("resize_to", "100000", "resize_to 100000 for inputs of 28")]
    [InlineData("normalize_std", "[0]", "a mean is not finite or a std not positive")]
    [InlineData("classes", "[\"shirt\"]", "1 classes (2 to 100000)")]
    [InlineData("normalize_std", "null", "not a valid config (")]
    [InlineData("model", "7", "not a valid config (")]
    public void A_damaged_config_names_the_file_and_the_problem(string key, string value, string expected)
    {
        string path = Path.Combine(_dir, "config.json");
        Valid().Save(path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json[key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<CliException>(() => RunConfig.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Mutated_configs_load_or_are_one_clear_error()
    {
        string path = Path.Combine(_dir, "config.json");
        Valid().Save(path);
        byte[] text = File.ReadAllBytes(path);
        string[] inserts = ["9999999999", "-1", "1e308", "null", "\"\"", "[]", "{}", "\"bgr\"", "0", "[3, 64, 64]", "\\u0000", "NaN"];
        var report = Fuzzer.Run("config.json", Fuzzer.Cases(600), 12, (i, rng) =>
        {
            if (i % 2 == 0) return Fuzzer.Mutate(text, rng);
            var chars = System.Text.Encoding.UTF8.GetString(text).ToList();
            int at = rng.Next(chars.Count);
            chars.InsertRange(at, inserts[rng.Next(inserts.Length)]);
            if (rng.Next(2) == 0) chars.RemoveRange(at + 1, Math.Min(rng.Next(1, 12), chars.Count - at - 1));
            return System.Text.Encoding.UTF8.GetBytes(new string([.. chars]));
        }, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var config = RunConfig.Load(path);
            config.Preprocessing().Evaluation();
            if (config.Model is "mlp" or "lenet" or "resnet-small") Common.CreateModel(config, path);
        }, e => e is CliException c && c.Message.Contains(path) || e is EngineException);
        output.WriteLine(report.ToString());
        Assert.True(report.Untyped == 0 && report.Hangs == 0 && report.Loaded > 10, report.ToString());
    }
}
