namespace Engine.Data;

/// <summary>
/// Crops a random part of each image, of random area and aspect ratio, and resizes it to
/// <see cref="Size"/> × <see cref="Size"/> (torchvision's <c>RandomResizedCrop</c>): the standard
/// augmentation for training on photos.
/// </summary>
/// <remarks>
/// For an H × W image, up to ten tries draw a target area A·u with u uniform in [scale₀, scale₁]
/// (A = H·W) and an aspect ratio r = exp(v) with v uniform in [ln ratio₀, ln ratio₁]; the crop is
/// w = round(√(A·u·r)) by h = round(√(A·u/r)) when it fits, at a uniform top-left corner. When no
/// try fits, the crop is the central one of the largest size whose ratio is clamped to the range.
/// The crop is resized bilinearly (<see cref="Interpolation"/>), as Y_b = A_b · X_b · B_bᵀ per image.
/// Each sample draws 40 uniforms from the transform's own <see cref="Generator"/>, so the same seed
/// and the same sequence of batches give the same crops.
/// </remarks>
public sealed class RandomResizedCrop : ITransform
{
    private const int Tries = 10;
    private readonly Generator _generator;

    /// <summary>Crops of area fraction in [<paramref name="minScale"/>, <paramref name="maxScale"/>] and aspect ratio in [<paramref name="minRatio"/>, <paramref name="maxRatio"/>], resized to <paramref name="size"/>.</summary>
    public RandomResizedCrop(int size, double minScale = 0.08, double maxScale = 1, double minRatio = 3.0 / 4, double maxRatio = 4.0 / 3, ulong seed = 0)
    {
        if (size < 1) throw new EngineException($"RandomResizedCrop: size {size}: must be positive");
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1))
            throw new EngineException($"RandomResizedCrop: scale ({minScale}, {maxScale}): needs 0 < min ≤ max ≤ 1");
        if (!(minRatio > 0 && minRatio <= maxRatio && double.IsFinite(maxRatio)))
            throw new EngineException($"RandomResizedCrop: ratio ({minRatio}, {maxRatio}): needs 0 < min ≤ max");
        Size = size;
        Scale = (minScale, maxScale);
        Ratio = (minRatio, maxRatio);
        _generator = new Generator(seed);
    }

    /// <summary>The output side.</summary>
    public int Size { get; }

    /// <summary>The range of the crop's area as a fraction of the image's.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the crop's width / height.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (b, _, h, w) = ImageBatch.Check("RandomResizedCrop", batch);
        var boxes = new (int Top, int Left, int Height, int Width)[b];
        if (b > 0)
        {
            using var u = Tensor.Rand([b, Tries, 4], 0, 1, DType.Float64, _generator);
            var draws = u.ToArray<double>();
            for (int i = 0; i < b; i++) boxes[i] = Box(h, w, draws.AsSpan(i * Tries * 4, Tries * 4));
        }
        return Crop(batch, boxes);
    }

    /// <summary>A crop box of an H × W image from 40 uniforms in [0, 1) (see the remarks).</summary>
    private (int, int, int, int) Box(int height, int width, ReadOnlySpan<double> u)
    {
        double area = (double)height * width, logLo = Math.Log(Ratio.Min), logHi = Math.Log(Ratio.Max);
        for (int t = 0; t < Tries; t++)
        {
            double target = area * (Scale.Min + u[4 * t] * (Scale.Max - Scale.Min));
            double ratio = Math.Exp(logLo + u[4 * t + 1] * (logHi - logLo));
            int w = (int)Math.Round(Math.Sqrt(target * ratio)), h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return ((int)(u[4 * t + 2] * (height - h + 1)), (int)(u[4 * t + 3] * (width - w + 1)), h, w);
        }
        double r = (double)width / height;
        int cw = width, ch = height;
        if (r < Ratio.Min) ch = (int)Math.Round(width / Ratio.Min);
        else if (r > Ratio.Max) cw = (int)Math.Round(height * Ratio.Max);
        return ((height - ch) / 2, (width - cw) / 2, ch, cw);
    }

    /// <summary>Crops sample i at <paramref name="boxes"/>[i] and resizes it to <see cref="Size"/>; the deterministic core of <see cref="Apply"/>.</summary>
    public Tensor Crop(Tensor batch, ReadOnlySpan<(int Top, int Left, int Height, int Width)> boxes)
    {
        var (b, _, h, w) = ImageBatch.Check("RandomResizedCrop", batch);
        if (boxes.Length != b) throw Errors.ShapeError("RandomResizedCrop", batch.Shape, $"{boxes.Length} crop boxes for {b} samples");
        var rows = new double[b * Size * h];
        var cols = new double[b * Size * w];
        for (int i = 0; i < b; i++)
        {
            var (top, left, ch, cw) = boxes[i];
            if (ch < 1 || cw < 1 || top < 0 || left < 0 || top + ch > h || left + cw > w)
                throw Errors.IndexError("RandomResizedCrop", batch.Shape, $"crop box ({top}, {left}, {ch}x{cw}) of sample {i} is outside the {h}x{w} image");
            Interpolation.Bilinear(h, top, ch, Size).CopyTo(rows, i * Size * h);
            Interpolation.Bilinear(w, left, cw, Size).CopyTo(cols, i * Size * w);
        }
        using var scope = Tensor.Scope();
        var a = Tensor.FromArray(rows, b, 1, Size, h).To(batch.DType).To(batch.Device);
        var bt = Tensor.FromArray(cols, b, 1, Size, w).To(batch.DType).To(batch.Device);
        return scope.Keep(a.MatMul(batch).MatMul(bt, transposeB: true));
    }
}
