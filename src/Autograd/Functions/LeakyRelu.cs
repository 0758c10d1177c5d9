namespace Engine.Functions;

/// <summary>y = x for x &gt; 0, s·x otherwise (s the negative slope).</summary>
/// <remarks>∂L/∂x = g · (x &gt; 0 ? 1 : s)</remarks>
internal sealed class LeakyRelu(double slope) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.LeakyRelu(slope);
    }

    protected override Variable?[] Backward(Variable g) => [g * Mask.Where(Saved(0).Data > 0, 1, slope, g.DType)];
}
