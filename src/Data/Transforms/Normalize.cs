namespace Engine.Data;

/// <summary>
/// Standardises each channel: y[b, c] = (x[b, c] − mean[c]) / std[c] (torchvision's <c>Normalize</c>).
/// One mean and std apply to every channel.
/// </summary>
public sealed class Normalize : ITransform
{
    private readonly double[] _mean, _std;

    /// <summary>Per-channel means and standard deviations (equal lengths; each std finite and positive).</summary>
    public Normalize(double[] mean, double[] std)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new EngineException($"Normalize: {mean.Length} means and {std.Length} stds: need one of each per channel");
        foreach (double s in std)
            if (!(s > 0) || double.IsInfinity(s)) throw new EngineException($"Normalize: std {s}: every std must be finite and positive");
        foreach (double m in mean)
            if (!double.IsFinite(m)) throw new EngineException($"Normalize: mean {m}: every mean must be finite");
        _mean = [.. mean];
        _std = [.. std];
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<double> Std => _std;

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (_, c, _, _) = ImageBatch.Check("Normalize", batch);
        if (_mean.Length != c && _mean.Length != 1)
            throw Errors.ShapeError("Normalize", batch.Shape, $"{_mean.Length} means and stds for {c} channels");
        using var scope = Tensor.Scope();
        var mean = Tensor.FromArray(_mean, 1, _mean.Length, 1, 1).To(batch.DType);
        var std = Tensor.FromArray(_std, 1, _std.Length, 1, 1).To(batch.DType);
        return scope.Keep((batch - mean) / std);
    }
}
