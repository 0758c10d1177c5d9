namespace Engine.Optim;

/// <summary>Adagrad (Duchi, Hazan and Singer, 2011) with learning-rate decay (PyTorch's <c>torch.optim.Adagrad</c>).</summary>
/// <remarks>
/// For each parameter p with gradient g, at step t = 1, 2, … (counted per parameter), learning rate γ,
/// learning-rate decay η, weight decay λ and ε:
/// <code>
///   g  ← g + λ·p                               (if λ ≠ 0: L2 penalty in the gradient)
///   γₜ = γ / (1 + (t − 1)·η)                    (decayed learning rate)
///   s  ← s + g²                                (sum, starts at initial_accumulator_value)
///   p  ← p − γₜ · g / (√s + ε)
/// </code>
/// Hyperparameters (state-dict names): <c>lr</c>, <c>lr_decay</c>, <c>weight_decay</c>,
/// <c>initial_accumulator_value</c>, <c>eps</c>. State: <c>step</c>, <c>sum</c>.
/// </remarks>
public sealed class Adagrad : Optimizer
{
    /// <summary>Adagrad over <paramref name="parameters"/> (one group).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="lr">The learning rate γ ≥ 0.</param>
    /// <param name="lrDecay">The learning-rate decay η ≥ 0: step t uses γ / (1 + (t − 1)·η).</param>
    /// <param name="weightDecay">The L2 penalty λ ≥ 0, added to the gradient as λ·p.</param>
    /// <param name="initialAccumulatorValue">The starting value ≥ 0 of every element of the sum of squares.</param>
    /// <param name="eps">ε ≥ 0, added to the denominator.</param>
    public Adagrad(IEnumerable<Parameter> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10)
        : base(parameters, Spec(lr, lrDecay, weightDecay, initialAccumulatorValue, eps)) { }

    /// <summary>Adagrad over parameter <paramref name="groups"/>; the other arguments are the defaults for what a group does not set.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="lr">The default learning rate γ ≥ 0.</param>
    /// <param name="lrDecay">The default learning-rate decay η ≥ 0.</param>
    /// <param name="weightDecay">The default L2 penalty λ ≥ 0.</param>
    /// <param name="initialAccumulatorValue">The default starting value ≥ 0 of the sum of squares.</param>
    /// <param name="eps">The default ε ≥ 0.</param>
    public Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10)
        : base(groups, Spec(lr, lrDecay, weightDecay, initialAccumulatorValue, eps)) { }

    private static Hyperparameter[] Spec(double lr, double lrDecay, double weightDecay, double initialAccumulatorValue, double eps) =>
    [
        new("lr", lr),
        new("lr_decay", lrDecay),
        new("weight_decay", weightDecay),
        new("initial_accumulator_value", initialAccumulatorValue),
        new("eps", eps),
    ];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateBufferNames(ParamGroup group) => ["sum"];

    /// <inheritdoc/>
    protected override Tensor CreateBuffer(string name, Tensor param, ParamGroup group) =>
        Tensor.Full(param.Shape.ToArray(), group["initial_accumulator_value"], param.DType, param.Device);

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state)
    {
        double wd = group.WeightDecay;
        if (wd != 0) grad = grad + param * wd;
        double clr = group.LearningRate / (1 + (state.Step - 1) * group["lr_decay"]);
        var sum = state["sum"];
        sum.AddInPlace(grad.Square());
        var std = sum.Sqrt() + group["eps"];
        param.SubInPlace(grad / std * clr);
    }
}
