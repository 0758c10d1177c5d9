namespace Engine.Functions;

/// <summary>yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along one axis.</summary>
/// <remarks>
/// ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ), so ∂L/∂x = y · (g − Σ(g · y))   (the sum along the axis, kept for broadcasting)
/// </remarks>
internal sealed class Softmax(int axis) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveResult();
        return x.Softmax(axis);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var y = Result;
        return [y * (g - (g * y).Sum([axis], keepDim: true))];
    }
}
