namespace Engine.Layers;

/// <summary>
/// Batch normalisation over [N, C] (<see cref="BatchNorm1d"/>) or [N, C, H, W] (<see cref="BatchNorm2d"/>):
/// per channel, (x − μ)/√(σ² + ε)·γ + β. Training uses batch statistics and updates the running ones
/// (r ← (1 − momentum)·r + momentum·stat); evaluation, and a frozen layer, use the running ones.
/// </summary>
public abstract class BatchNorm : Module
{
    /// <summary>Creates the layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    protected BatchNorm(int numFeatures, double eps, double momentum, bool affine, DType dtype)
    {
        if (numFeatures < 1) throw new EngineException($"{TypeName}: numFeatures must be positive, not {numFeatures}");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numFeatures], dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures], dtype));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures], dtype));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures], dtype));
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Weight of the newest batch in the running statistics.</summary>
    public double Momentum { get; }
    /// <summary>γ, or null without affine.</summary>
    public Parameter? Weight { get; }
    /// <summary>β, or null without affine.</summary>
    public Parameter? Bias { get; }
    /// <summary>Running mean (a buffer).</summary>
    public Tensor RunningMean { get; }
    /// <summary>Running (unbiased) variance (a buffer).</summary>
    public Tensor RunningVar { get; }

    /// <summary>The input rank this layer takes.</summary>
    protected abstract int ExpectedRank { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable x)
    {
        if (x.Rank != ExpectedRank || x.Size(1) != NumFeatures)
            throw Errors.ShapeError(TypeName, x.Shape, $"input must be rank {ExpectedRank} with {NumFeatures} channels in dim 1");
        bool batchStats = IsTraining && !IsFrozen;
        return Functional.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, batchStats, Momentum, Eps);
    }
}

/// <summary>Batch normalisation of [N, C].</summary>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32)
    : BatchNorm(numFeatures, eps, momentum, affine, dtype)
{
    /// <inheritdoc/>
    protected override int ExpectedRank => 2;
}

/// <summary>Batch normalisation of [N, C, H, W].</summary>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, DType dtype = DType.Float32)
    : BatchNorm(numFeatures, eps, momentum, affine, dtype)
{
    /// <inheritdoc/>
    protected override int ExpectedRank => 4;
}

/// <summary>Layer normalisation over the last dims (the normalized shape), with elementwise γ and β.</summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer with γ = 1 and β = 0 of <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        NormalizedShape = normalizedShape;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(normalizedShape, dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros(normalizedShape, dtype));
        }
    }

    /// <summary>The normalised trailing shape.</summary>
    public int[] NormalizedShape { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>γ, or null.</summary>
    public Parameter? Weight { get; }
    /// <summary>β, or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => Functional.LayerNorm(x, NormalizedShape, Weight, Bias, Eps);
}

/// <summary>Zeros each element with probability p in training (scaling the rest by 1/(1 − p)); the identity in evaluation.</summary>
public sealed class Dropout : Module
{
    private readonly Generator _generator;

    /// <summary>Creates the layer; its masks come from <paramref name="generator"/> (the default generator unless given).</summary>
    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (p < 0 || p >= 1) throw new EngineException($"Dropout: p {p} must be in [0, 1)");
        P = p;
        _generator = generator ?? Generator.Default;
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => Functional.Dropout(x, P, IsTraining && !IsFrozen, _generator);
}
