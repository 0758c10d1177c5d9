namespace Engine.Data;

/// <summary>
/// Resizes each image to <see cref="Height"/> × <see cref="Width"/> by bilinear interpolation, with
/// PyTorch's <c>interpolate(mode="bilinear", align_corners=False)</c> rule and no antialiasing.
/// </summary>
/// <remarks>The interpolation matrices of <see cref="Interpolation"/>: Y = A_H · X · A_Wᵀ.</remarks>
public sealed class Resize : ITransform
{
    /// <summary>Resizes to <paramref name="height"/> × <paramref name="width"/>.</summary>
    public Resize(int height, int width)
    {
        if (height < 1 || width < 1) throw new EngineException($"Resize: size {height}x{width}: sizes must be positive");
        Height = height;
        Width = width;
    }

    /// <summary>The output height.</summary>
    public int Height { get; }

    /// <summary>The output width.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (_, _, h, w) = ImageBatch.Check("Resize", batch);
        if (h == 0 || w == 0) throw Errors.ShapeError("Resize", batch.Shape, "cannot interpolate from an empty image");
        if (h == Height && w == Width) return batch.Clone();
        using var scope = Tensor.Scope();
        var rows = Tensor.FromArray(Interpolation.Bilinear(h, 0, h, Height), Height, h).To(batch.DType);
        var cols = Tensor.FromArray(Interpolation.Bilinear(w, 0, w, Width), Width, w).To(batch.DType);
        return scope.Keep(rows.MatMul(batch.MatMul(cols, transposeB: true)));
    }
}
