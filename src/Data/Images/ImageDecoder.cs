using StbImageSharp;

namespace Engine.Data;

/// <summary>
/// Reads PNG, JPEG, BMP and GIF files (the first frame) into 8-bit grey or RGB pixels with the
/// pure-managed StbImageSharp, made total: any bytes give an image or a <see cref="DataException"/>
/// naming the file, never a hang, a crash or an unbounded allocation.
/// </summary>
/// <remarks>
/// The format is recognised by the file's first bytes, whatever its extension. Before decoding, the
/// size in the header is checked against <see cref="ImageDecodeOptions.MaxPixels"/>, and a PNG's
/// chunks and compressed data against the file and that size (<c>PngCheck</c>). The library reads
/// through a stream that refuses to seek or read past the end of the file (a truncated JPEG header
/// made it wait forever for a marker). Any mode converts: palette and 16-bit to 8-bit, RGBA drops
/// alpha, grey to RGB repeats the value, RGB to grey is the library's luma (77·R + 150·G + 29·B) / 256.
/// Orientation tags (EXIF) are not applied, as in torchvision's and Keras' loaders.
/// </remarks>
public static class ImageDecoder
{
    /// <summary>The file extensions of the formats read, lower case with the dot.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];

    /// <summary>True when <paramref name="path"/> ends with one of <see cref="Extensions"/> (any case).</summary>
    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The format whose signature <paramref name="head"/> starts with.</summary>
    public static ImageFormat DetectFormat(ReadOnlySpan<byte> head) => head switch
    {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, ..] => ImageFormat.Png,
        [0xFF, 0xD8, 0xFF, ..] => ImageFormat.Jpeg,
        [(byte)'B', (byte)'M', ..] => ImageFormat.Bmp,
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'7' or (byte)'9', (byte)'a', ..] => ImageFormat.Gif,
        _ => ImageFormat.Unknown,
    };

    /// <summary>Reads and decodes the image file at <paramref name="path"/> (see <see cref="Decode"/>).</summary>
    public static DecodedImage Read(string path, bool grey = false, ImageDecodeOptions? options = null)
    {
        options ??= ImageDecodeOptions.Default;
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new DataException($"{path}: no such image file");
            if (info.Length > options.MaxFileBytes)
                throw new DataException($"{path}: {info.Length} bytes is larger than the {options.MaxFileBytes}-byte limit for an image file");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"{path}: cannot read the file ({e.Message})");
        }
        return Decode(bytes, path, grey, options);
    }

    /// <summary>
    /// Decodes an image file's bytes to grey (1 channel) or RGB (3 channels). <paramref name="name"/>
    /// (the path) starts every error message.
    /// </summary>
    public static DecodedImage Decode(byte[] bytes, string name, bool grey = false, ImageDecodeOptions? options = null)
    {
        options ??= ImageDecodeOptions.Default;
        if (bytes.Length == 0) throw new DataException($"{name}: the file is empty");
        if (bytes.LongLength > options.MaxFileBytes)
            throw new DataException($"{name}: {bytes.LongLength} bytes is larger than the {options.MaxFileBytes}-byte limit for an image file");
        var format = DetectFormat(bytes);
        if (format == ImageFormat.Unknown)
            throw new DataException($"{name}: not a PNG, JPEG, BMP or GIF image (it starts with {Convert.ToHexString(bytes, 0, Math.Min(8, bytes.Length))})");
        if (format == ImageFormat.Png) PngCheck.Validate(bytes, name, options.MaxPixels);
        string what = format.ToString().ToUpperInvariant();
        ImageResult image;
        try
        {
            var info = ImageInfo.FromStream(new BoundedStream(bytes))
                ?? throw new DataException($"{name}: cannot read the {what} header");
            if (info.Width < 1 || info.Height < 1) throw new DataException($"{name}: corrupt {what}: size {info.Width}x{info.Height}");
            CheckSize(name, info.Width, info.Height, options.MaxPixels);
            image = ImageResult.FromStream(new BoundedStream(bytes), grey ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        }
        catch (DataException)
        {
            throw;
        }
        catch (TruncatedImageException e)
        {
            throw new DataException($"{name}: truncated {what}: {e.Message}");
        }
        catch (Exception e)
        {
            // the library reports a damaged file with exceptions of several types; its reason text names what it
            // found, except when the format's own check failed and the library went on to try the others
            bool ownReason = format == ImageFormat.Png || !e.Message.Contains("png", StringComparison.OrdinalIgnoreCase);
            throw new DataException($"{name}: cannot decode the {what} image ({(ownReason ? e.Message : "corrupt header")})");
        }
        int channels = grey ? 1 : 3;
        if (image?.Data is null || image.Width < 1 || image.Height < 1 || image.Data.LongLength != (long)image.Width * image.Height * channels)
            throw new DataException($"{name}: cannot decode the {what} image");
        return new DecodedImage(image.Width, image.Height, channels, image.Data);
    }

    /// <summary>A <see cref="DataException"/> when width × height is above <paramref name="maxPixels"/>.</summary>
    internal static void CheckSize(string name, long width, long height, long maxPixels)
    {
        if (width * height > maxPixels)
            throw new DataException($"{name}: {width}x{height} is {width * height / 1e6:F0} megapixels, more than the limit of {maxPixels / 1e6:F0}");
    }
}
