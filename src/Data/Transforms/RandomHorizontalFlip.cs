namespace Engine.Data;

/// <summary>
/// Mirrors each image left to right with probability p (torchvision's <c>RandomHorizontalFlip</c>):
/// y[b, c, i, j] = x[b, c, i, W − 1 − j] for the flipped samples, a copy of x for the others.
/// </summary>
/// <remarks>
/// Sample i is flipped when a uniform draw u_i ∈ [0, 1) from the transform's own
/// <see cref="Generator"/> is below p, so the same seed and the same sequence of batches flip the
/// same samples.
/// </remarks>
public sealed class RandomHorizontalFlip : ITransform
{
    private readonly Generator _generator;

    /// <summary>Flips each sample with probability <paramref name="p"/>, drawing from a generator seeded with <paramref name="seed"/>.</summary>
    public RandomHorizontalFlip(double p = 0.5, ulong seed = 0)
    {
        if (!(p >= 0 && p <= 1)) throw new EngineException($"RandomHorizontalFlip: p {p}: must lie in [0, 1]");
        P = p;
        _generator = new Generator(seed);
    }

    /// <summary>The probability of flipping a sample.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (b, _, _, _) = ImageBatch.Check("RandomHorizontalFlip", batch);
        var flip = new bool[b];
        if (b > 0)
        {
            using var u = Tensor.Rand([b], 0, 1, DType.Float64, _generator);
            var draws = u.ToArray<double>();
            for (int i = 0; i < b; i++) flip[i] = draws[i] < P;
        }
        return Flip(batch, flip);
    }

    /// <summary>Mirrors the samples whose <paramref name="flip"/> flag is set; the deterministic core of <see cref="Apply"/>.</summary>
    public static Tensor Flip(Tensor batch, ReadOnlySpan<bool> flip)
    {
        var (b, _, _, w) = ImageBatch.Check("RandomHorizontalFlip", batch);
        if (flip.Length != b)
            throw Errors.ShapeError("RandomHorizontalFlip", batch.Shape, $"{flip.Length} flip flags for {b} samples");
        using var scope = Tensor.Scope();
        var reversed = new long[w];
        for (int j = 0; j < w; j++) reversed[j] = w - 1 - j;
        var mirrored = batch.IndexSelect(3, Tensor.FromArray(reversed));
        var mask = Tensor.FromArray(flip.ToArray(), b, 1, 1, 1);
        return scope.Keep(Tensor.Where(mask, mirrored, batch));
    }
}
