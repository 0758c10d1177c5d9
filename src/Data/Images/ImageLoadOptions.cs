namespace Engine.Data;

/// <summary>How <see cref="ImageDataset.Load"/> decodes and keeps images.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>
    /// The side every image is kept at (default 73: 64-pixel crops with a margin of 8/7, as
    /// 224-pixel crops come from 256-pixel images).
    /// </summary>
    public int Size { get; init; } = 73;

    /// <summary>
    /// Keep the whole image resized to <see cref="Size"/> × <see cref="Size"/> (the aspect ratio may
    /// change) instead of its central square (the default).
    /// </summary>
    public bool Squash { get; init; }

    /// <summary>Decode to one grey channel instead of RGB.</summary>
    public bool Grey { get; init; }

    /// <summary>Leave out files that cannot be decoded (each reported to <see cref="Warning"/>) instead of failing.</summary>
    public bool SkipBadImages { get; init; }

    /// <summary>Limits applied to each file.</summary>
    public ImageDecodeOptions Decode { get; init; } = ImageDecodeOptions.Default;

    /// <summary>
    /// The most bytes of pixels kept in memory (default: a quarter of the memory available to the
    /// process); above it they go to a temporary file in <see cref="CacheDirectory"/>.
    /// </summary>
    public long? MemoryBudget { get; init; }

    /// <summary>The folder of the temporary pixel file (default: the system's temporary folder).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>How many images have been decoded so far; called from the decoding threads.</summary>
    public IProgress<int>? Progress { get; init; }

    /// <summary>Stops decoding (with an <see cref="OperationCanceledException"/>) when signalled.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>One line per skipped file, in file order, after decoding.</summary>
    public Action<string>? Warning { get; init; }
}
