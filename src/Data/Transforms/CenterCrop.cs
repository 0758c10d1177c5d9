namespace Engine.Data;

/// <summary>
/// The central <see cref="Height"/> × <see cref="Width"/> of each image (torchvision's
/// <c>CenterCrop</c>): rows from round((H − h)/2), columns from round((W − w)/2).
/// </summary>
public sealed class CenterCrop : ITransform
{
    /// <summary>Square crops of side <paramref name="size"/>.</summary>
    public CenterCrop(int size) : this(size, size) { }

    /// <summary>Crops of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public CenterCrop(int height, int width)
    {
        if (height < 1 || width < 1) throw new EngineException($"CenterCrop: size {height}x{width}: sizes must be positive");
        Height = height;
        Width = width;
    }

    /// <summary>The crop height.</summary>
    public int Height { get; }

    /// <summary>The crop width.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (_, _, h, w) = ImageBatch.Check("CenterCrop", batch);
        if (Height > h || Width > w)
            throw Errors.ShapeError("CenterCrop", batch.Shape, $"crop {Height}x{Width} is larger than the image {h}x{w}");
        int top = (int)Math.Round((h - Height) / 2.0, MidpointRounding.AwayFromZero), left = (int)Math.Round((w - Width) / 2.0, MidpointRounding.AwayFromZero);
        using var view = batch.Narrow(2, top, Height).Narrow(3, left, Width);
        return view.Clone();
    }
}
