namespace Engine.Data;

/// <summary>Limits <see cref="ImageDecoder"/> enforces before it allocates for an image.</summary>
public sealed record ImageDecodeOptions
{
    /// <summary>The largest width × height accepted (default 100 million pixels: a 100 MB grey or 300 MB RGB image).</summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>The largest file accepted, in bytes (default 256 MiB).</summary>
    public long MaxFileBytes { get; init; } = 256L << 20;

    /// <summary>The defaults.</summary>
    public static ImageDecodeOptions Default { get; } = new();
}
