using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.Cli;

/// <summary>What <c>engine train</c> records in config.json so that eval and predict rebuild the same model.</summary>
internal sealed record RunConfig
{
    public required string Model { get; init; }
    public required string[] Classes { get; init; }
    public required int[] InputShape { get; init; }
    public required double[] NormalizeMean { get; init; }
    public required double[] NormalizeStd { get; init; }
    public required ulong Seed { get; init; }
    public required string Optimizer { get; init; }
    public required double LearningRate { get; init; }
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public string? Data { get; init; }

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, s_json));

    public static RunConfig Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no config.json; is this a folder written by 'engine train'?");
        try
        {
            return JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), s_json) ?? throw new CliException($"{path}: empty config");
        }
        catch (JsonException e)
        {
            throw new CliException($"{path}: not a valid config ({e.Message})");
        }
    }
}

/// <summary>A user-facing error: printed as one line, with exit code 2.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>Writes files through a temporary name and a rename, so an interrupted run never leaves half a file.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        string full = Path.GetFullPath(path);
        string temp = full + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, full, overwrite: true);
    }
}
