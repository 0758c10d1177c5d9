namespace Engine.Optim;

/// <summary>Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay (PyTorch's <c>torch.optim.SGD</c>).</summary>
/// <remarks>
/// For each parameter p with gradient g, learning rate γ, momentum μ, dampening τ and weight decay λ:
/// <code>
///   g ← g + λ·p                              (if λ ≠ 0: L2 weight decay)
///   if μ ≠ 0:
///     b ← g                                  (first step: the buffer starts as the gradient)
///     b ← μ·b + (1 − τ)·g                    (later steps)
///     g ← g + μ·b   if Nesterov, else  g ← b
///   p ← p − γ·g
/// </code>
/// Hyperparameters (state-dict names): <c>lr</c>, <c>momentum</c>, <c>dampening</c>, <c>weight_decay</c>,
/// <c>nesterov</c> (0 or 1). State: <c>momentum_buffer</c> (when μ ≠ 0); SGD counts no steps: a
/// parameter whose buffer exists is past its first step.
/// </remarks>
public sealed class SGD : Optimizer
{
    private const string Buffer = "momentum_buffer";

    /// <summary>SGD over <paramref name="parameters"/> (one group).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="lr">The learning rate γ ≥ 0.</param>
    /// <param name="momentum">The momentum factor μ ≥ 0 (0: plain SGD).</param>
    /// <param name="dampening">The dampening τ of the gradient in the momentum buffer.</param>
    /// <param name="weightDecay">The L2 penalty λ ≥ 0, added to the gradient as λ·p.</param>
    /// <param name="nesterov">Nesterov momentum (needs μ &gt; 0 and τ = 0).</param>
    public SGD(IEnumerable<Parameter> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : base(parameters, Spec(lr, momentum, dampening, weightDecay, nesterov)) { }

    /// <summary>SGD over parameter <paramref name="groups"/>; the other arguments are the defaults for what a group does not set.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="lr">The default learning rate γ ≥ 0.</param>
    /// <param name="momentum">The default momentum factor μ ≥ 0.</param>
    /// <param name="dampening">The default dampening τ.</param>
    /// <param name="weightDecay">The default L2 penalty λ ≥ 0.</param>
    /// <param name="nesterov">The default for Nesterov momentum.</param>
    public SGD(IEnumerable<ParamGroup> groups, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false)
        : base(groups, Spec(lr, momentum, dampening, weightDecay, nesterov)) { }

    private static Hyperparameter[] Spec(double lr, double momentum, double dampening, double weightDecay, bool nesterov) =>
    [
        new("lr", lr),
        new("momentum", momentum),
        new("dampening", dampening, double.MinValue, double.MaxValue),
        new("weight_decay", weightDecay),
        Hyperparameter.Flag("nesterov", nesterov),
    ];

    /// <inheritdoc/>
    protected override bool CountsSteps => false;

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateBufferNames(ParamGroup group) => group["momentum"] != 0 ? [Buffer] : [];

    /// <inheritdoc/>
    protected override string? ValidateGroup(ParamGroup group) =>
        group["nesterov"] == 1 && (group["momentum"] <= 0 || group["dampening"] != 0)
            ? $"Nesterov momentum needs momentum > 0 and dampening = 0 (momentum {group["momentum"]}, dampening {group["dampening"]})"
            : null;

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        double lr = group.LearningRate, mu = group["momentum"], wd = group.WeightDecay;
        // every line is one fused pass (AddInPlace with α and β) over tensors that already exist,
        // except the copy of the gradient that weight decay or Nesterov need to leave Grad untouched
        var d = grad;
        if (wd != 0) d = grad.Clone().AddInPlace(param, wd);                // d = g + λ·p
        if (mu != 0)
        {
            if (!state.Contains(Buffer))
                state.Set(Buffer, d.Clone());                                 // b₁ = d
            else
                state[Buffer].AddInPlace(d, 1 - group["dampening"], mu);      // b = μ·b + (1 − τ)·d
            var b = state[Buffer];
            if (group["nesterov"] == 1)
                d = (ReferenceEquals(d, grad) ? grad.Clone() : d).AddInPlace(b, mu);   // d = d + μ·b
            else d = b;
        }
        param.AddInPlace(d, -lr);                                             // p = p − η·d
    }
}
