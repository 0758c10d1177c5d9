using Engine.Cli;

namespace Engine.Tests;

/// <summary>config.json comes from outside (a run folder anyone may edit or damage): every damaged one is one clear error.</summary>
public sealed class RunConfigTests : IDisposable
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
        string text = File.ReadAllText(path);
        var rng = new Random(12);
        string[] inserts = ["9999999999", "-1", "1e308", "null", "\"\"", "[]", "{}", "\"bgr\"", "0", "[3, 64, 64]", "\\u0000", "NaN"];
        int loaded = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            var chars = text.ToCharArray().ToList();
            for (int k = 1 + rng.Next(3); k > 0; k--)
            {
                int at = rng.Next(chars.Count);
                switch (rng.Next(3))
                {
                    case 0: chars[at] = (char)rng.Next(32, 127); break;
                    case 1: chars.RemoveRange(at, Math.Min(rng.Next(1, 12), chars.Count - at)); break;
                    default: chars.InsertRange(at, inserts[rng.Next(inserts.Length)]); break;
                }
            }
            File.WriteAllText(path, new string([.. chars]));
            try
            {
                var config = RunConfig.Load(path);
                config.Preprocessing().Evaluation();
                if (config.Model is "mlp" or "lenet" or "resnet-small") Common.CreateModel(config, path);
                loaded++;
            }
            catch (CliException e)
            {
                Assert.Contains(path, e.Message);
            }
            catch (EngineException)
            {
                // a value the layers refuse (a model name with another class count), with their message
            }
        }
        Assert.True(loaded > 10, $"{loaded} of 400 mutated configs still loaded");
    }
}
