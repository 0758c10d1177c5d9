namespace Engine.Data;

/// <summary>
/// The contents of an IDX image file: <see cref="Count"/> greyscale images of
/// <see cref="Rows"/> × <see cref="Cols"/> unsigned bytes, row-major, one image after another.
/// </summary>
public sealed class IdxImages
{
    /// <summary>Wraps pixels already read; <paramref name="pixels"/> must hold count·rows·cols bytes.</summary>
    public IdxImages(byte[] pixels, int count, int rows, int cols)
    {
        if (count < 0 || rows < 0 || cols < 0 || (long)count * rows * cols != pixels.LongLength)
            throw new DataException($"IdxImages: {pixels.LongLength} pixel bytes: count {count} x rows {rows} x cols {cols} must equal the number of bytes");
        Pixels = pixels;
        Count = count;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>The raw pixel values 0 … 255, image after image, each row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>The number of images.</summary>
    public int Count { get; }

    /// <summary>The height of each image.</summary>
    public int Rows { get; }

    /// <summary>The width of each image.</summary>
    public int Cols { get; }

    /// <summary>
    /// The images as a float32 tensor [Count, 1, Rows, Cols], each byte divided by 255 so the
    /// values lie in [0, 1] (torchvision's <c>ToTensor</c>); with <paramref name="scale"/> false the
    /// values stay 0 … 255 (the <see cref="Engine.Data.ToTensor"/> transform scales them later). The caller owns the tensor.
    /// </summary>
    public Tensor ToTensor(bool scale = true) => Pixel.ToFloat(Pixels, scale, Count, 1, Rows, Cols);
}
