namespace Engine.Layers;

/// <summary>max(x, 0)</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Relu();
}

/// <summary>x for x &gt; 0, slope·x otherwise.</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module
{
    /// <summary>The slope for negative inputs.</summary>
    public double NegativeSlope => negativeSlope;

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.LeakyRelu(negativeSlope);
}

/// <summary>σ(x) = 1/(1 + e⁻ˣ)</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Sigmoid();
}

/// <summary>tanh x</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Tanh();
}

/// <summary>GELU, exact or with the tanh approximation.</summary>
public sealed class GELU(bool tanhApproximation = false) : Module
{
    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Gelu(tanhApproximation);
}

/// <summary>Softmax along one axis.</summary>
public sealed class Softmax(int axis = -1) : Module
{
    /// <summary>The axis normalised over.</summary>
    public int Axis => axis;

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Softmax(axis);
}
