namespace Engine.Layers;

/// <summary>y = x·Wᵀ + b, for inputs [..., in] (the seed's layer y = σ(W·z + b) without its σ).</summary>
public sealed class Linear : Module
{
    /// <summary>Weight [out, in] and bias [out], initialised like PyTorch: U(−1/√in, 1/√in).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (inFeatures < 1 || outFeatures < 1) throw new EngineException($"Linear: features must be positive, not {inFeatures} → {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Tensor.Rand([outFeatures, inFeatures], -bound, bound, dtype, generator));
        if (bias) Bias = RegisterParameter("bias", Tensor.Rand([outFeatures], -bound, bound, dtype, generator));
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }
    /// <summary>[out, in]</summary>
    public Parameter Weight { get; }
    /// <summary>[out], or null without bias.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => Functional.Linear(x, Weight, Bias);
}
