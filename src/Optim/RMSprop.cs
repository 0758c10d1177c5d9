namespace Engine.Optim;

/// <summary>RMSprop (Hinton's lecture 6e) with optional momentum and centering (PyTorch's <c>torch.optim.RMSprop</c>).</summary>
/// <remarks>
/// For each parameter p with gradient g, learning rate γ, smoothing α, ε, weight decay λ and momentum μ:
/// <code>
///   g  ← g + λ·p                               (if λ ≠ 0: L2 penalty in the gradient)
///   v  ← α·v + (1 − α)·g²                      (square_avg, starts at 0)
///   ḡ  ← α·ḡ + (1 − α)·g                       (centered only: grad_avg, starts at 0)
///   d  = √(v − ḡ²) + ε   if centered,  else  √v + ε
///   if μ &gt; 0:  b ← μ·b + g / d;  p ← p − γ·b      (momentum_buffer, starts at 0)
///   else:       p ← p − γ · g / d
/// </code>
/// Hyperparameters (state-dict names): <c>lr</c>, <c>alpha</c>, <c>eps</c>, <c>weight_decay</c>,
/// <c>momentum</c>, <c>centered</c> (0 or 1). State: <c>step</c>, <c>square_avg</c>, and
/// <c>momentum_buffer</c> when μ &gt; 0, <c>grad_avg</c> when centered.
/// </remarks>
public sealed class RMSprop : Optimizer
{
    /// <summary>RMSprop over <paramref name="parameters"/> (one group).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="lr">The learning rate γ ≥ 0.</param>
    /// <param name="alpha">The smoothing constant α ≥ 0 of the running averages.</param>
    /// <param name="eps">ε ≥ 0, added to the denominator.</param>
    /// <param name="weightDecay">The L2 penalty λ ≥ 0, added to the gradient as λ·p.</param>
    /// <param name="momentum">The momentum factor μ ≥ 0 (0: none).</param>
    /// <param name="centered">Normalise by an estimate of the gradient's variance instead of its second moment.</param>
    public RMSprop(IEnumerable<Parameter> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(parameters, Spec(lr, alpha, eps, weightDecay, momentum, centered)) { }

    /// <summary>RMSprop over parameter <paramref name="groups"/>; the other arguments are the defaults for what a group does not set.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="lr">The default learning rate γ ≥ 0.</param>
    /// <param name="alpha">The default smoothing constant α ≥ 0.</param>
    /// <param name="eps">The default ε ≥ 0.</param>
    /// <param name="weightDecay">The default L2 penalty λ ≥ 0.</param>
    /// <param name="momentum">The default momentum factor μ ≥ 0.</param>
    /// <param name="centered">The default for centering.</param>
    public RMSprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false)
        : base(groups, Spec(lr, alpha, eps, weightDecay, momentum, centered)) { }

    private static Hyperparameter[] Spec(double lr, double alpha, double eps, double weightDecay, double momentum, bool centered) =>
    [
        new("lr", lr),
        new("alpha", alpha),
        new("eps", eps),
        new("weight_decay", weightDecay),
        new("momentum", momentum),
        Hyperparameter.Flag("centered", centered),
    ];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateBufferNames(ParamGroup group)
    {
        var names = new List<string> { "square_avg" };
        if (group["momentum"] > 0) names.Add("momentum_buffer");
        if (group["centered"] == 1) names.Add("grad_avg");
        return names;
    }

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        double lr = group.LearningRate, alpha = group["alpha"], eps = group["eps"], wd = group.WeightDecay, mu = group["momentum"];
        if (wd != 0) grad = grad + param * wd;
        var v = state["square_avg"];
        v.MulInPlace(alpha).AddInPlace(grad.Square() * (1 - alpha));
        Tensor avg;
        if (group["centered"] == 1)
        {
            var gAvg = state["grad_avg"];
            gAvg.MulInPlace(alpha).AddInPlace(grad * (1 - alpha));
            avg = (v - gAvg.Square()).Sqrt() + eps;
        }
        else avg = v.Sqrt() + eps;
        if (mu > 0)
        {
            var b = state["momentum_buffer"];
            b.MulInPlace(mu).AddInPlace(grad / avg);
            param.SubInPlace(b * lr);
        }
        else param.SubInPlace(grad / avg * lr);
    }
}
