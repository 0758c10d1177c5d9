using F = Engine.Functions;

namespace Engine;

/// <summary>
/// Differentiable operations that are not methods of one variable: linear, normalisation, dropout,
/// embedding and the losses (PyTorch's <c>torch.nn.functional</c>).
/// </summary>
public static class Functional
{
    /// <summary>y = x·Wᵀ + b for inputs [..., in], weight [out, in] and optional bias [out] (PyTorch's <c>F.linear</c>; the <c>Linear</c> layer's forward).</summary>
    public static Variable Linear(Variable x, Variable weight, Variable? bias = null)
    {
        if (weight.Rank != 2)
            throw Errors.ShapeError("Linear", x.Shape, weight.Shape, "the weight must be [out, in]");
        if (x.Rank < 1 || x.Size(-1) != weight.Size(1))
            throw Errors.ShapeError("Linear", x.Shape, weight.Shape, $"the input's last dim must be {weight.Size(1)}");
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != weight.Size(0)))
            throw Errors.ShapeError("Linear", weight.Shape, bias.Shape, $"the bias must be [{weight.Size(0)}]");
        var y = x.MatMul(weight, transposeB: true);
        return bias is null ? y : y + bias;
    }

    /// <summary>
    /// Batch normalisation of [N, C] or [N, C, H, W] over all but the channel dim. In training the
    /// batch statistics are used and the running ones, when given, updated in place (momentum m:
    /// r ← (1 − m)r + m·stat); in evaluation the running statistics are used and must be given.
    /// </summary>
    public static Variable BatchNorm(Variable x, Tensor? runningMean = null, Tensor? runningVar = null, Variable? weight = null, Variable? bias = null,
        bool training = true, double momentum = 0.1, double eps = 1e-5)
    {
        if (!training && (runningMean is null || runningVar is null))
            throw new EngineException("BatchNorm: evaluation needs the running mean and variance");
        if (x.Rank >= 2)
        {
            int c = x.Size(1);
            foreach (var (t, what) in new[] { (runningMean, "running mean"), (runningVar, "running variance"), (weight?.Data, "weight"), (bias?.Data, "bias") })
                if (t is not null && (t.Rank != 1 || t.Size(0) != c))
                    throw Errors.ShapeError("BatchNorm", x.Shape, t.Shape, $"the {what} must be [{c}], one value per channel");
        }
        var f = new F.BatchNorm(runningMean, runningVar, training, momentum, eps);
        return (weight, bias) switch
        {
            (null, null) => Variable.Apply(f, x),
            (not null, null) => Variable.Apply(f, x, weight),
            (not null, not null) => Variable.Apply(f, x, weight, bias),
            _ => Variable.Apply(f, x, Variable.OnesLike(bias!), bias!),
        };
    }

    /// <summary>Layer normalisation over the last <paramref name="normalizedShape"/>.Length dims, with optional elementwise affine parameters of that shape.</summary>
    public static Variable LayerNorm(Variable x, int[] normalizedShape, Variable? weight = null, Variable? bias = null, double eps = 1e-5)
    {
        if (normalizedShape.Length == 0 || normalizedShape.Length > x.Rank || !x.Shape[^normalizedShape.Length..].SequenceEqual(normalizedShape))
            throw Errors.ShapeError("LayerNorm", x.Shape, normalizedShape, "the normalized shape must match the input's last dims");
        foreach (var t in new[] { weight, bias })
            if (t is not null && !t.Shape.SequenceEqual(normalizedShape))
                throw Errors.ShapeError("LayerNorm", normalizedShape, t.Shape, "weight and bias must have the normalized shape");
        var f = new F.LayerNorm(normalizedShape.Length, eps);
        return (weight, bias) switch
        {
            (null, null) => Variable.Apply(f, x),
            (not null, null) => Variable.Apply(f, x, weight),
            (not null, not null) => Variable.Apply(f, x, weight, bias),
            _ => Variable.Apply(f, x, Variable.OnesLike(bias!), bias!),
        };
    }

    /// <summary>Zeros each element with probability p and scales the rest by 1/(1 − p) in training; the identity otherwise.</summary>
    public static Variable Dropout(Variable x, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (p < 0 || p >= 1) throw new EngineException($"Dropout: p {p} must be in [0, 1)");
        return !training || p == 0 ? x : Variable.Apply(new F.Dropout(p, generator), x);
    }

    /// <summary>Rows of <paramref name="table"/> [V, D] at the (int) ids, any shape: the result is [..ids, D].</summary>
    public static Variable Embedding(Tensor ids, Variable table)
    {
        if (table.Rank != 2) throw Errors.ShapeError("Embedding", table.Shape, "the table must be [V, D]");
        var flat = ids.Reshape(-1);                      // IndexSelect keeps it for backward
        return table.IndexSelect(0, flat).Reshape([.. ids.Shape, table.Size(1)]);
    }

    /// <summary>Cross-entropy of logits [N, C] against class indices [N]: log-softmax and NLL fused, with class weights and label smoothing.</summary>
    public static Variable CrossEntropy(Variable logits, Tensor target, Tensor? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    {
        if (labelSmoothing < 0 || labelSmoothing > 1) throw new EngineException($"CrossEntropy: label smoothing {labelSmoothing} must be in [0, 1]");
        return Variable.Apply(new F.CrossEntropy(target, weight, labelSmoothing, reduction), logits);
    }

    /// <summary>Mean squared error between input and target (broadcast).</summary>
    public static Variable MseLoss(Variable input, Variable target, Reduction reduction = Reduction.Mean)
    {
        Tensor.BroadcastShapes("MseLoss", input.Shape, target.Shape);
        return Variable.Apply(new F.MseLoss(reduction), input, target);
    }

    /// <summary>Binary cross-entropy on logits (stable), with optional per-element weights and a positive-class weight.</summary>
    public static Variable BinaryCrossEntropyWithLogits(Variable logits, Variable target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean) =>
        Variable.Apply(new F.BceWithLogits(weight, posWeight, reduction), logits, target);
}
