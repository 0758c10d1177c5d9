namespace Engine.Functions;

/// <summary>y = x as another floating type (float32 ↔ float64); the values are rounded to the new type.</summary>
/// <remarks>∂L/∂x = g as x's type (the cast is the identity up to rounding, so its derivative is 1)</remarks>
internal sealed class Cast(DType to) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        if (!x.DType.IsFloating() || !to.IsFloating())
            throw Errors.DTypeError("Cast", $"differentiable casts are between floating types, not {x.DType.Name()} to {to.Name()}");
        return x.To(to);
    }

    protected override Variable?[] Backward(Variable g) => [g.To(InputDType(0))];
}
