namespace Engine.Functions;

/// <summary>yᵢ = xᵢ − ln Σⱼ e^(xⱼ) along one axis.</summary>
/// <remarks>∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ, so ∂L/∂x = g − e^y · Σ g   (e^y is the softmax)</remarks>
internal sealed class LogSoftmax(int axis) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveResult();
        return x.LogSoftmax(axis);
    }

    protected override Variable?[] Backward(Variable g) => [g - Result.Exp() * g.Sum([axis], keepDim: true)];
}
