namespace Engine.Data;

/// <summary>The image file formats <see cref="ImageDecoder"/> reads, recognised by their first bytes.</summary>
public enum ImageFormat
{
    /// <summary>Not one of the formats below.</summary>
    Unknown,
    /// <summary>PNG: 89 50 4E 47 0D 0A 1A 0A.</summary>
    Png,
    /// <summary>JPEG: FF D8 FF.</summary>
    Jpeg,
    /// <summary>BMP: "BM".</summary>
    Bmp,
    /// <summary>GIF: "GIF87a" or "GIF89a" (the first frame).</summary>
    Gif,
}
