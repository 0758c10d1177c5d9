namespace Engine.Optim;

/// <summary>Adam (Kingma and Ba, 2015) with L2 weight decay and optional AMSGrad (PyTorch's <c>torch.optim.Adam</c>).</summary>
/// <remarks>
/// For each parameter p with gradient g, at step t = 1, 2, … (counted per parameter), learning rate γ,
/// betas β₁ and β₂, ε and weight decay λ:
/// <code>
///   g  ← g + λ·p                               (if λ ≠ 0: L2 penalty in the gradient)
///   m  ← β₁·m + (1 − β₁)·g                     (exp_avg, starts at 0)
///   v  ← β₂·v + (1 − β₂)·g²                    (exp_avg_sq, starts at 0)
///   v̂max ← max(v̂max, v)                        (AMSGrad only: max_exp_avg_sq, starts at 0)
///   p  ← p − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)        (v̂max instead of v with AMSGrad)
/// </code>
/// The two bias corrections undo the moments' start at zero. Hyperparameters (state-dict names):
/// <c>lr</c>, <c>beta1</c>, <c>beta2</c>, <c>eps</c>, <c>weight_decay</c>, <c>amsgrad</c> (0 or 1).
/// State: <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, and <c>max_exp_avg_sq</c> with AMSGrad.
/// <see cref="AdamW"/> decouples the weight decay instead.
/// </remarks>
public class Adam : Optimizer
{
    /// <summary>Adam over <paramref name="parameters"/> (one group).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="lr">The learning rate γ ≥ 0.</param>
    /// <param name="beta1">β₁ ∈ [0, 1), the decay of the first moment.</param>
    /// <param name="beta2">β₂ ∈ [0, 1), the decay of the second moment.</param>
    /// <param name="eps">ε ≥ 0, added to the denominator.</param>
    /// <param name="weightDecay">The L2 penalty λ ≥ 0, added to the gradient as λ·p.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : base(parameters, Spec(lr, beta1, beta2, eps, weightDecay, amsgrad)) { }

    /// <summary>Adam over parameter <paramref name="groups"/>; the other arguments are the defaults for what a group does not set.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="lr">The default learning rate γ ≥ 0.</param>
    /// <param name="beta1">The default β₁ ∈ [0, 1).</param>
    /// <param name="beta2">The default β₂ ∈ [0, 1).</param>
    /// <param name="eps">The default ε ≥ 0.</param>
    /// <param name="weightDecay">The default L2 penalty λ ≥ 0.</param>
    /// <param name="amsgrad">The default for AMSGrad.</param>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : base(groups, Spec(lr, beta1, beta2, eps, weightDecay, amsgrad)) { }

    /// <summary>For <see cref="AdamW"/>: the same hyperparameters over one group.</summary>
    private protected Adam(IEnumerable<Parameter> parameters, Hyperparameter[] spec) : base(parameters, spec) { }

    /// <summary>For <see cref="AdamW"/>: the same hyperparameters over groups.</summary>
    private protected Adam(IEnumerable<ParamGroup> groups, Hyperparameter[] spec) : base(groups, spec) { }

    private protected static Hyperparameter[] Spec(double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad) =>
    [
        new("lr", lr),
        new("beta1", beta1, 0, 1, MaxExclusive: true),
        new("beta2", beta2, 0, 1, MaxExclusive: true),
        new("eps", eps),
        new("weight_decay", weightDecay),
        Hyperparameter.Flag("amsgrad", amsgrad),
    ];

    /// <summary>True for AdamW: weight decay shrinks the parameter directly instead of entering the gradient.</summary>
    private protected virtual bool DecoupledWeightDecay => false;

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateBufferNames(ParamGroup group) =>
        group["amsgrad"] == 1 ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        double lr = group.LearningRate, b1 = group["beta1"], b2 = group["beta2"], eps = group["eps"], wd = group.WeightDecay;
        long t = state.Step;
        if (DecoupledWeightDecay) { if (wd != 0) param.MulInPlace(1 - lr * wd); }
        else if (wd != 0) grad = grad + param * wd;

        var m = state["exp_avg"];
        var v = state["exp_avg_sq"];
        m.AddInPlace(grad, 1 - b1, b1);              // m = β₁·m + (1 − β₁)·g
        v.AddInPlace(grad.Square(), 1 - b2, b2);     // v = β₂·v + (1 − β₂)·g²

        double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
        var second = v;
        if (group["amsgrad"] == 1)
        {
            var max = state["max_exp_avg_sq"];
            max.CopyFrom(max.Maximum(v));
            second = max;
        }
        var denom = second.Sqrt() / Math.Sqrt(bc2) + eps;
        param.SubInPlace(m / denom * (lr / bc1));
    }
}
