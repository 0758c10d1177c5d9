namespace Engine.Functions;

/// <summary>y = tanh x.</summary>
/// <remarks>∂L/∂x = g · (1 − tanh² x) = g · (1 − y²)</remarks>
internal sealed class Tanh : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveResult();
        return x.Tanh();
    }

    protected override Variable?[] Backward(Variable g)
    {
        var y = Result;
        return [g * (1.0 - y * y)];
    }
}
