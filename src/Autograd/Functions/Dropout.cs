namespace Engine.Functions;

/// <summary>
/// Dropout: y = x · m / (1 − p), where each element of the mask m is 1 with probability 1 − p
/// (drawn from the seeded generator) and 0 otherwise: the expectation of y is x.
/// </summary>
/// <remarks>∂L/∂x = g · m / (1 − p)   (the same mask)</remarks>
internal sealed class Dropout(double p, Generator? generator) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        using var u = Tensor.Rand(x.Shape.ToArray(), 0, 1, x.DType, generator, x.Device);
        using var keepMask = u >= p;
        var scale = keepMask.To(x.DType);
        scale.MulInPlace(1 / (1 - p));
        Keep(scale);
        return x * scale;
    }

    protected override Variable?[] Backward(Variable g) => [g * Kept(0)];
}
