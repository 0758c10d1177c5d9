namespace Engine.Layers;

/// <summary>2-D convolution over [N, C, H, W] with weight [out, in/groups, kH, kW] and bias [out].</summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer; weights initialised like PyTorch: U(−1/√fan_in, 1/√fan_in).</summary>
    public Conv2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Padding2d? padding = null,
        Size2d? dilation = null, int groups = 1, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (inChannels < 1 || outChannels < 1 || groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new EngineException($"Conv2d: {inChannels} input and {outChannels} output channels must be positive and divide by groups {groups}");
        Options = new Conv2dOptions { Stride = stride ?? 1, Padding = padding ?? 0, Dilation = dilation ?? 1, Groups = groups };
        double bound = 1 / Math.Sqrt((double)inChannels / groups * kernelSize.H * kernelSize.W);
        Weight = RegisterParameter("weight", Tensor.Rand([outChannels, inChannels / groups, kernelSize.H, kernelSize.W], -bound, bound, dtype, generator));
        if (bias) Bias = RegisterParameter("bias", Tensor.Rand([outChannels], -bound, bound, dtype, generator));
    }

    /// <summary>Stride, padding, dilation and groups.</summary>
    public Conv2dOptions Options { get; }
    /// <summary>[out, in/groups, kH, kW]</summary>
    public Parameter Weight { get; }
    /// <summary>[out], or null without bias.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Conv2d(Weight, Bias, Options);
}
