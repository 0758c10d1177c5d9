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

    /// <summary>The largest input side and class count a config may ask for (a damaged file must not allocate without bound).</summary>
    private const int MaxSide = 2048, MaxClasses = 100_000;

    /// <summary>Reads and checks a config.json: a missing, unreadable or inconsistent one is one <see cref="CliException"/> naming the file.</summary>
    public static RunConfig Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no config.json; is this a folder written by 'engine train' or 'engine finetune'?");
        RunConfig? config;
        try
        {
            if (new FileInfo(path).Length > 16 << 20) throw new CliException($"{path}: {new FileInfo(path).Length} bytes is too large for a config");
            config = JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), s_json);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliException($"{path}: not a valid config ({e.Message})");
        }
        if (config is null) throw new CliException($"{path}: empty config");
        string? problem = config switch
        {
            { InputShape: not [1 or 3, > 0 and <= MaxSide, > 0 and <= MaxSide] } => $"input_shape {Errors.Shape(config.InputShape)} is not [1 or 3, side, side] with sides up to {MaxSide}",
            { Classes.Length: < 2 or > MaxClasses } => $"{config.Classes.Length} classes (2 to {MaxClasses})",
            _ when config.Classes.Any(string.IsNullOrEmpty) => "a class name is empty",
            _ when config.NormalizeMean.Length is not 1 && config.NormalizeMean.Length != config.InputShape[0] || config.NormalizeStd.Length != config.NormalizeMean.Length =>
                $"{config.NormalizeMean.Length} means and {config.NormalizeStd.Length} stds for {config.InputShape[0]} channels",
            _ when config.NormalizeMean.Any(m => !double.IsFinite(m)) || config.NormalizeStd.Any(v => !(v > 0) || !double.IsFinite(v)) => "a mean is not finite or a std not positive",
            { Color: not (null or "grey" or "rgb" or "bgr") } => $"color '{config.Color}' (grey, rgb or bgr)",
            { ResizeTo: { } r } when r < config.InputShape[1] || r > 2 * config.InputShape[1] => $"resize_to {r} for inputs of {config.InputShape[1]} (between 1 and 2 times the input side)",
            { Dropout: { } d } when !(d >= 0 && d < 1) => $"dropout {d}",
            _ => null,
        };
        if (problem is not null) throw new CliException($"{path}: not a valid config: {problem}");
        return config;
    }
}

/// <summary>A user-facing error: printed as one line, with exit code 2.</summary>
internal sealed class CliException(string message) : Exception(message);
