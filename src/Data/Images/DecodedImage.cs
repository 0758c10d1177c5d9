namespace Engine.Data;

/// <summary>
/// An 8-bit image in memory: <see cref="Height"/> rows of <see cref="Width"/> pixels, each
/// <see cref="Channels"/> bytes (1: grey; 3: red, green, blue), row-major and interleaved (HWC).
/// </summary>
public sealed class DecodedImage
{
    /// <summary>Wraps <paramref name="pixels"/> (height × width × channels bytes, HWC).</summary>
    public DecodedImage(int width, int height, int channels, byte[] pixels)
    {
        if (width < 1 || height < 1 || channels is not (1 or 3))
            throw new DataException($"DecodedImage: {width}x{height} with {channels} channels: sizes must be positive and channels 1 or 3");
        if (pixels.LongLength != (long)width * height * channels)
            throw new DataException($"DecodedImage: {width}x{height}x{channels} needs {(long)width * height * channels} bytes, not {pixels.LongLength}");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Pixels per row.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Bytes per pixel: 1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>The pixels, HWC.</summary>
    public byte[] Pixels { get; }

    /// <summary>The whole image resampled to <paramref name="width"/> × <paramref name="height"/> (the aspect ratio may change), antialiased.</summary>
    public DecodedImage Resized(int width, int height)
    {
        if (width < 1 || height < 1) throw new DataException($"DecodedImage.Resized: size {width}x{height}: sizes must be positive");
        return width == Width && height == Height ? this : Resampler.Resample(this, 0, 0, Width, Height, width, height);
    }

    /// <summary>
    /// The central square of side min(W, H), resampled to <paramref name="side"/> × <paramref name="side"/>
    /// (torchvision's <c>Resize(side)</c> then <c>CenterCrop(side)</c>), antialiased.
    /// </summary>
    public DecodedImage CroppedSquare(int side)
    {
        if (side < 1) throw new DataException($"DecodedImage.CroppedSquare: side {side}: must be positive");
        int s = Math.Min(Width, Height);
        if (Width == Height && s == side) return this;
        return Resampler.Resample(this, (Width - s) / 2.0, (Height - s) / 2.0, s, s, side, side);
    }

    /// <summary>The pixels as a float32 tensor [1, C, H, W] with values in [0, 1] (each byte divided by 255).</summary>
    public Tensor ToTensor()
    {
        var values = new float[Pixels.Length];
        Pixel.HwcToChw(Pixels, Height * Width, Channels, values);
        return Tensor.FromArray(values, 1, Channels, Height, Width);
    }
}
