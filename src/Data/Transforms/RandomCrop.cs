namespace Engine.Data;

/// <summary>
/// Pads each image with zeros and crops it at a random offset (torchvision's <c>RandomCrop</c> with
/// <c>padding</c>): the classic augmentation that shifts images by up to the padding.
/// </summary>
/// <remarks>
/// For an image of H × W padded by p, the crop of h × w starts at row top ∈ [0, H + 2p − h] and column
/// left ∈ [0, W + 2p − w], drawn uniformly and independently for each sample from the transform's
/// own <see cref="Generator"/>: the same seed and the same sequence of batches give the same crops.
/// </remarks>
public sealed class RandomCrop : ITransform
{
    private readonly Generator _generator;

    /// <summary>Square crops of <paramref name="size"/> after padding by <paramref name="padding"/> on every side.</summary>
    public RandomCrop(int size, int padding = 0, ulong seed = 0) : this(size, size, padding, seed) { }

    /// <summary>Crops of <paramref name="height"/> × <paramref name="width"/> after padding by <paramref name="padding"/> on every side.</summary>
    public RandomCrop(int height, int width, int padding, ulong seed)
    {
        if (height < 1 || width < 1 || padding < 0)
            throw new EngineException($"RandomCrop: size {height}x{width}, padding {padding}: sizes must be positive and padding non-negative");
        Height = height;
        Width = width;
        Padding = padding;
        _generator = new Generator(seed);
    }

    /// <summary>The crop height.</summary>
    public int Height { get; }

    /// <summary>The crop width.</summary>
    public int Width { get; }

    /// <summary>The zero padding added on every side before cropping.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (b, maxTop, maxLeft) = Check(batch);
        using var tops = Tensor.RandInt(0, maxTop + 1, [b], DType.Int32, _generator);
        using var lefts = Tensor.RandInt(0, maxLeft + 1, [b], DType.Int32, _generator);
        return Crop(batch, tops.ToArray<int>(), lefts.ToArray<int>());
    }

    /// <summary>
    /// Crops sample i of the padded batch at row <paramref name="tops"/>[i] and column
    /// <paramref name="lefts"/>[i] (offsets into the padded image); the deterministic core of <see cref="Apply"/>.
    /// </summary>
    public Tensor Crop(Tensor batch, ReadOnlySpan<int> tops, ReadOnlySpan<int> lefts)
    {
        var (b, maxTop, maxLeft) = Check(batch);
        if (tops.Length != b || lefts.Length != b)
            throw Errors.ShapeError("RandomCrop", batch.Shape, $"{tops.Length} tops and {lefts.Length} lefts for {b} samples");
        for (int i = 0; i < b; i++)
            if ((uint)tops[i] > (uint)maxTop || (uint)lefts[i] > (uint)maxLeft)
                throw Errors.IndexError("RandomCrop", batch.Shape, $"offset ({tops[i]}, {lefts[i]}) of sample {i} is outside [0, {maxTop}] x [0, {maxLeft}]");
        using var scope = Tensor.Scope();
        var padded = Padding > 0 ? batch.Pad([Padding, Padding, Padding, Padding]) : batch;
        var y = Tensor.Empty([b, batch.Size(1), Height, Width], batch.DType, batch.Device);
        for (int i = 0; i < b; i++)
            y.Narrow(0, i, 1).CopyFrom(padded.Narrow(0, i, 1).Narrow(2, tops[i], Height).Narrow(3, lefts[i], Width));
        return scope.Keep(y);
    }

    private (int B, int MaxTop, int MaxLeft) Check(Tensor batch)
    {
        var (b, _, h, w) = ImageBatch.Check("RandomCrop", batch);
        int maxTop = h + 2 * Padding - Height, maxLeft = w + 2 * Padding - Width;
        if (maxTop < 0 || maxLeft < 0)
            throw Errors.ShapeError("RandomCrop", batch.Shape, $"crop {Height}x{Width} is larger than the padded image {h + 2 * Padding}x{w + 2 * Padding}");
        return (b, maxTop, maxLeft);
    }
}
