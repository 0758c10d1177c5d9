namespace Engine.Functions;

/// <summary>y = max(x, 0).</summary>
/// <remarks>∂L/∂x = g · [x &gt; 0]   (0 at x = 0)</remarks>
internal sealed class Relu : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Relu();
    }

    protected override Variable?[] Backward(Variable g) => [Variable.Apply(new ReluBackward(), g, Saved(0))];
}

/// <summary>
/// ReLU's backward as its own recorded op, z = g · [x &gt; 0] in one pass (the comparison, the mask
/// and the product fused), so that a second derivative can run through it.
/// </summary>
/// <remarks>
///   ∂L/∂g = gz · [x &gt; 0]   (the same mask)
///   ∂L/∂x = 0               (the mask is flat away from x = 0)
/// </remarks>
internal sealed class ReluBackward : BinaryFunction
{
    protected override Tensor Forward(Tensor g, Tensor x)
    {
        SaveInputs(1);
        return g.ReluGrad(x);
    }

    protected override Variable?[] Backward(Variable gz) =>
        [NeedsGrad(0) ? Variable.Apply(new ReluBackward(), gz, Saved(0)) : null, null];
}
