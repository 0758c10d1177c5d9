using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.Data;

namespace Engine.Cli;

/// <summary>
/// What <c>engine train</c> and <c>engine finetune</c> record in config.json so that eval and predict
/// rebuild the same model and prepare images the same way. Fields added after the first release are
/// optional: a config without them describes a grey 28×28-style model whose inputs are resized whole.
/// </summary>
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

    /// <summary>How images are read: "grey" (the default), "rgb" or "bgr" (the network's channel order).</summary>
    public string? Color { get; init; }
    /// <summary>The side images are kept at before the central crop to the input size; absent: resized whole to the input size.</summary>
    public int? ResizeTo { get; init; }
    /// <summary>The ONNX backbone of a fine-tuned model (absent: the pretrained ResNet18).</summary>
    public string? Backbone { get; init; }
    /// <summary>The node or tensor the backbone was cut at, when one was given.</summary>
    public string? Cut { get; init; }
    /// <summary>The dropout before a fine-tuned model's head.</summary>
    public double? Dropout { get; init; }
    /// <summary>The image folder's held-out fractions (when trained on an image folder without split folders).</summary>
    public double? ValidationFraction { get; init; }
    /// <summary>See <see cref="ValidationFraction"/>.</summary>
    public double? TestFraction { get; init; }

    /// <summary>How a file becomes this model's input.</summary>
    public ImagePreprocessing Preprocessing() => new()
    {
        Size = InputShape[1], Channels = InputShape[0], ResizeTo = ResizeTo ?? 0, Squash = ResizeTo is null,
        Grey = Color is null or "grey", Bgr = Color == "bgr", Mean = NormalizeMean, Std = NormalizeStd,
    };

    /// <summary>The fields that record <paramref name="p"/>.</summary>
    public static (string Color, int? ResizeTo) Describe(ImagePreprocessing p) =>
        (p.Grey ? "grey" : p.Bgr ? "bgr" : "rgb", p.Squash ? null : p.StoredSize);

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, RespectNullableAnnotations = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, s_json));

    public static RunConfig Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no config.json; is this a folder written by 'engine train'?");
        try
        {
            var config = JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), s_json) ?? throw new CliException($"{path}: empty config");
            if (config.InputShape is not [1 or 3, > 0, > 0] || config.Classes.Length < 2 || config.NormalizeMean.Length == 0 || config.NormalizeStd.Length == 0
                || config.Color is not (null or "grey" or "rgb" or "bgr") || config.ResizeTo < config.InputShape[1])
                throw new CliException($"{path}: not a valid config (input_shape {Errors.Shape(config.InputShape)}, {config.Classes.Length} classes, color {config.Color ?? "grey"}, resize_to {config.ResizeTo?.ToString() ?? "none"})");
            return config;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
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
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
