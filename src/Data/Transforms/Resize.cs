namespace Engine.Data;

/// <summary>
/// Resizes each image to <see cref="Height"/> × <see cref="Width"/> by bilinear interpolation, with
/// PyTorch's <c>interpolate(mode="bilinear", align_corners=False)</c> rule and no antialiasing.
/// </summary>
/// <remarks>
/// Along an axis of n inputs and m outputs, output i samples the input at
/// s = max(0, (i + ½)·n/m − ½); with i₀ = ⌊s⌋, i₁ = min(i₀ + 1, n − 1) and λ = s − i₀,
/// y[i] = (1 − λ)·x[i₀] + λ·x[i₁]. Bilinear interpolation is this along rows and then columns, so
/// it is two matrix products: Y = A_H · X · A_Wᵀ with A[i, i₀] += 1 − λ and A[i, i₁] += λ.
/// </remarks>
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
        var rows = Tensor.FromArray(Weights(h, Height), Height, h).To(batch.DType);
        var cols = Tensor.FromArray(Weights(w, Width), Width, w).To(batch.DType);
        return scope.Keep(rows.MatMul(batch.MatMul(cols, transposeB: true)));
    }

    /// <summary>The m × n interpolation matrix A of the remarks.</summary>
    private static double[] Weights(int n, int m)
    {
        var a = new double[m * n];
        double scale = (double)n / m;
        for (int i = 0; i < m; i++)
        {
            double s = Math.Max(0, (i + 0.5) * scale - 0.5);
            int i0 = Math.Min((int)s, n - 1), i1 = Math.Min(i0 + 1, n - 1);
            double lambda = s - i0;
            a[i * n + i0] += 1 - lambda;
            a[i * n + i1] += lambda;
        }
        return a;
    }
}
