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

    protected override Variable?[] Backward(Variable g) => [g * Mask.Where(Saved(0).Data > 0, 1, 0, g.DType)];
}
