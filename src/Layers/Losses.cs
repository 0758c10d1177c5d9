namespace Engine.Layers;

/// <summary>A loss: a function of a prediction and a target.</summary>
public abstract class Loss
{
    /// <summary>How per-sample values are combined.</summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;

    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public abstract Variable Forward(Variable input, Variable target);

    /// <summary>Same as <see cref="Forward"/>.</summary>
    public Variable Call(Variable input, Variable target) => Forward(input, target);

    /// <summary>Applies the reduction to per-sample values.</summary>
    protected Variable Reduce(Variable perSample) => Reduction switch
    {
        Reduction.Sum => perSample.Sum(),
        Reduction.None => perSample,
        _ => perSample.Mean(),
    };
}

/// <summary>Cross-entropy of logits [N, C] against class indices [N], with class weights and label smoothing.</summary>
public sealed class CrossEntropyLoss(Tensor? weight = null, double labelSmoothing = 0) : Loss
{
    /// <inheritdoc/>
    public override Variable Forward(Variable input, Variable target) =>
        Functional.CrossEntropy(input, target.Data, weight, labelSmoothing, Reduction);
}

/// <summary>
/// Negative log-likelihood of log-probabilities [N, C] against class indices [N]:
/// ℓᵢ = −w[yᵢ]·logp[i, yᵢ], the mean dividing by Σ w[yᵢ].
/// </summary>
public sealed class NLLLoss(Tensor? weight = null) : Loss
{
    /// <inheritdoc/>
    public override Variable Forward(Variable input, Variable target)
    {
        var y = target.Data;
        if (input.Rank != 2 || y.Rank != 1 || y.Size(0) != input.Size(0))
            throw Errors.ShapeError("NLLLoss", input.Shape, y.Shape, "input must be [N, C] log-probabilities and target [N] class indices");
        if (!y.DType.IsInteger()) throw Errors.DTypeError("NLLLoss", $"targets must be int32 or int64 class indices, not {y.DType.Name()}");
        // the index and weight tensors stay alive with the graph (the enclosing scope disposes them)
        var idx = y.To(DType.Int64).Reshape(-1, 1);
        var picked = -input.Gather(1, idx).Reshape(-1);
        if (weight is null) return Reduce(picked);
        var wy = weight.Gather(0, idx.Reshape(-1));
        var weighted = picked * wy;
        return Reduction == Reduction.Mean ? weighted.Sum() / wy.Sum().Item<double>() : Reduce(weighted);
    }
}

/// <summary>Mean squared error (a − b)².</summary>
public sealed class MSELoss : Loss
{
    /// <inheritdoc/>
    public override Variable Forward(Variable input, Variable target) => Functional.MseLoss(input, target, Reduction);
}

/// <summary>Binary cross-entropy on logits, with optional per-element weights and a positive-class weight.</summary>
public sealed class BCEWithLogitsLoss(Tensor? weight = null, Tensor? posWeight = null) : Loss
{
    /// <inheritdoc/>
    public override Variable Forward(Variable input, Variable target) =>
        Functional.BinaryCrossEntropyWithLogits(input, target, weight, posWeight, Reduction);
}

/// <summary>Huber loss: ½d² where |d| &lt; δ, δ(|d| − ½δ) elsewhere (d = input − target): squared near 0, linear far away.</summary>
public sealed class HuberLoss(double delta = 1.0) : Loss
{
    /// <inheritdoc/>
    public override Variable Forward(Variable input, Variable target)
    {
        if (delta <= 0) throw new EngineException($"HuberLoss: delta {delta} must be positive");
        var d = input - target;
        var absD = d.Abs();
        var small = absD.Data < delta;                  // kept by Where for backward
        var quadratic = d * d * 0.5;
        var linear = (absD - 0.5 * delta) * delta;
        return Reduce(Variable.Where(small, quadratic, linear));
    }
}

/// <summary>
/// Pairwise margin contrastive loss (Hadsell, Chopra and LeCun 2006), the loss the seed document
/// names for learning embeddings: for embeddings a, b [N, D] and labels y [N] (1 = similar pair,
/// 0 = dissimilar), with d = ‖a − b‖₂,
///   ℓ = y·d² + (1 − y)·max(0, m − d)²,
/// pulling similar pairs together and pushing dissimilar ones at least the margin m apart.
/// </summary>
public sealed class ContrastiveLoss(double margin = 1.0) : Loss
{
    /// <summary>Call with the pair packed as input = a, target = b; use <see cref="Forward(Variable, Variable, Tensor)"/>.</summary>
    public override Variable Forward(Variable input, Variable target) =>
        throw new EngineException("ContrastiveLoss: call Forward(a, b, labels) with both embeddings and the similarity labels");

    /// <summary>The loss of embedding pairs (a, b) with labels y (1 similar, 0 dissimilar).</summary>
    public Variable Forward(Variable a, Variable b, Tensor labels)
    {
        if (a.Rank != 2 || !a.Shape.SequenceEqual(b.Shape))
            throw Errors.ShapeError("ContrastiveLoss", a.Shape, b.Shape, "embeddings must be two [N, D] tensors of one shape");
        if (labels.Rank != 1 || labels.Size(0) != a.Size(0))
            throw Errors.ShapeError("ContrastiveLoss", a.Shape, labels.Shape, "labels must be [N], one per pair");
        var y = labels.To(a.DType);                     // saved by the graph for backward
        var d2 = (a - b).Square().Sum(1);
        var d = (d2 + 1e-12).Sqrt();                    // ε keeps the derivative of √ finite at d = 0
        var hinge = (margin - d).Relu();
        return Reduce(d2 * y + hinge * hinge * (1.0 - y));
    }
}
