namespace Engine.Functions;

/// <summary>
/// 2-D convolution y = x ⋆ w (+ b) over NCHW input [N, C, H, W] with weight [K, C/groups, R, S]:
/// y[n, k, i, j] = Σ_{c,r,s} x[n, c, i·sH − pT + r·dH, j·sW − pL + s·dW] · w[k, c, r, s] + b[k].
/// </summary>
/// <remarks>
/// y is linear in x and in w, so each gradient is the adjoint of one of them:
///   ∂L/∂x = the transposed convolution of g with w   (<see cref="Conv2dInputGrad"/>)
///   ∂L/∂w = the correlation of x with g               (<see cref="Conv2dWeightGrad"/>)
///   ∂L/∂b = Σ g over n, i, j
/// Both are functions of their own, so second-order gradients flow through them.
/// </remarks>
internal sealed class Conv2d(Conv2dOptions options) : Function
{
    protected override Tensor Forward(Tensor[] inputs)
    {
        SaveInputs(0, 1);
        return inputs[0].Conv2d(inputs[1], inputs.Length > 2 ? inputs[2] : null, options);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0);
        var w = Saved(1);
        var grads = new Variable?[Inputs.Count];
        if (NeedsGrad(0)) grads[0] = Variable.Apply(new Conv2dInputGrad(InputShape(0), options), g, w);
        if (NeedsGrad(1)) grads[1] = Variable.Apply(new Conv2dWeightGrad(InputShape(1), options), x, g);
        if (Inputs.Count > 2 && NeedsGrad(2)) grads[2] = g.Sum([0, 2, 3]);
        return grads;
    }
}

/// <summary>dx = Conv2dBackwardInput(dy, w): the input gradient of a convolution, as a function of dy and w.</summary>
/// <remarks>
/// Linear in both. With ⟨CBI(dy, w), G⟩ = ⟨dy, conv(G, w)⟩ = ⟨CBW(G, dy), w⟩:
///   ∂L/∂dy = conv(G, w)          ∂L/∂w = Conv2dBackwardWeight(G, dy)
/// </remarks>
internal sealed class Conv2dInputGrad(int[] inputShape, Conv2dOptions options) : BinaryFunction
{
    protected override Tensor Forward(Tensor dy, Tensor w)
    {
        SaveInputs();
        return Tensor.Conv2dBackwardInput(dy, w, inputShape, options);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var dy = Saved(0);
        var w = Saved(1);
        return [NeedsGrad(0) ? Variable.Apply(new Conv2d(options), g, w) : null,
                NeedsGrad(1) ? Variable.Apply(new Conv2dWeightGrad(InputShape(1), options), g, dy) : null];
    }
}

/// <summary>dw = Conv2dBackwardWeight(x, dy): the weight gradient of a convolution, as a function of x and dy.</summary>
/// <remarks>
/// Linear in both. With ⟨CBW(x, dy), G⟩ = ⟨dy, conv(x, G)⟩ = ⟨x, CBI(dy, G)⟩:
///   ∂L/∂x = Conv2dBackwardInput(dy, G)          ∂L/∂dy = conv(x, G)
/// </remarks>
internal sealed class Conv2dWeightGrad(int[] weightShape, Conv2dOptions options) : BinaryFunction
{
    protected override Tensor Forward(Tensor x, Tensor dy)
    {
        SaveInputs();
        return Tensor.Conv2dBackwardWeight(x, dy, weightShape, options);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0);
        var dy = Saved(1);
        return [NeedsGrad(0) ? Variable.Apply(new Conv2dInputGrad(InputShape(0), options), dy, g) : null,
                NeedsGrad(1) ? Variable.Apply(new Conv2d(options), x, g) : null];
    }
}
