namespace Engine.Functions;

/// <summary>
/// Binary cross-entropy on logits x with targets y ∈ [0, 1], optional per-element weights w and
/// positive-class weight q: ℓ = −w·(q·y·ln σ(x) + (1 − y)·ln(1 − σ(x))), reduced by the mean, the
/// sum or not at all. Computed stably: ln σ(x) = −softplus(−x), ln(1 − σ(x)) = −softplus(x).
/// </summary>
/// <remarks>
///   ∂ℓ/∂x = w·(σ(x)·(q·y + 1 − y) − q·y)
///   ∂ℓ/∂y = w·(q·softplus(−x) − softplus(x))
/// </remarks>
internal sealed class BceWithLogits(Tensor? weight, Tensor? posWeight, Reduction reduction) : BinaryFunction
{
    /// <summary>softplus(z) = ln(1 + eᶻ) = max(z, 0) + ln(1 + e^(−|z|)), stable for any z.</summary>
    private static Variable Softplus(Variable z) => z.Relu() + ((-z.Abs()).Exp() + 1.0).Log();

    protected override Tensor Forward(Tensor x, Tensor y)
    {
        if (!x.Shape.SequenceEqual(y.Shape))
            throw Errors.ShapeError("BceWithLogits", x.Shape, y.Shape, "logits and targets must have the same shape");
        SaveInputs();
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        return scope.Keep(Loss(x, y).Data);
    }

    private Variable Loss(Variable x, Variable y)
    {
        Variable q = posWeight ?? Tensor.Ones([], x.DType, x.Device);
        var l = q * y * Softplus(-x) + (1.0 - y) * Softplus(x);
        if (weight is not null) l = l * weight;
        return reduction switch
        {
            Reduction.Sum => l.Sum(),
            Reduction.None => l,
            _ => l.Mean(),
        };
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0);
        var y = Saved(1);
        Variable q = posWeight ?? Tensor.Ones([], x.DType, x.Device);
        Variable w = weight ?? Tensor.Ones([], x.DType, x.Device);
        var upstream = reduction == Reduction.Mean ? g / x.Numel : g;
        Variable? gx = null, gy = null;
        if (NeedsGrad(0)) gx = w * (x.Sigmoid() * (q * y + 1.0 - y) - q * y) * upstream;
        if (NeedsGrad(1)) gy = w * (q * Softplus(-x) - Softplus(x)) * upstream;
        return [gx, gy];
    }
}
