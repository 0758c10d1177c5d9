namespace Engine.Optim;

/// <summary>Adam with decoupled weight decay (Loshchilov and Hutter, 2019; PyTorch's <c>torch.optim.AdamW</c>).</summary>
/// <remarks>
/// The same moments and bias corrections as <see cref="Adam"/>, but the weight decay λ shrinks the
/// parameter directly, scaled by the learning rate, instead of entering the gradient (and so the moments):
/// <code>
///   p  ← p − γ·λ·p                             (decoupled weight decay, before the Adam step)
///   m  ← β₁·m + (1 − β₁)·g
///   v  ← β₂·v + (1 − β₂)·g²
///   p  ← p − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)        (v̂max = max(v̂max, v) instead of v with AMSGrad)
/// </code>
/// Defaults as PyTorch's: λ = 0.01. Hyperparameter and state names as <see cref="Adam"/>'s.
/// </remarks>
public sealed class AdamW : Adam
{
    /// <summary>AdamW over <paramref name="parameters"/> (one group).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="lr">The learning rate γ ≥ 0.</param>
    /// <param name="beta1">β₁ ∈ [0, 1), the decay of the first moment.</param>
    /// <param name="beta2">β₂ ∈ [0, 1), the decay of the second moment.</param>
    /// <param name="eps">ε ≥ 0, added to the denominator.</param>
    /// <param name="weightDecay">The decoupled weight decay λ ≥ 0: p ← p − γ·λ·p each step.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false)
        : base(parameters, Spec(lr, beta1, beta2, eps, weightDecay, amsgrad)) { }

    /// <summary>AdamW over parameter <paramref name="groups"/>; the other arguments are the defaults for what a group does not set.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="lr">The default learning rate γ ≥ 0.</param>
    /// <param name="beta1">The default β₁ ∈ [0, 1).</param>
    /// <param name="beta2">The default β₂ ∈ [0, 1).</param>
    /// <param name="eps">The default ε ≥ 0.</param>
    /// <param name="weightDecay">The default decoupled weight decay λ ≥ 0.</param>
    /// <param name="amsgrad">The default for AMSGrad.</param>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false)
        : base(groups, Spec(lr, beta1, beta2, eps, weightDecay, amsgrad)) { }

    private protected override bool DecoupledWeightDecay => true;
}
