namespace Engine.Functions;

/// <summary>
/// Cross-entropy of logits x [N, C] against class indices y [N], fused with the log-softmax:
/// with p = log_softmax(x), class weights w (1 when absent) and label smoothing ε,
///   ℓᵢ = (1 − ε)·w[yᵢ]·(−p[i, yᵢ]) + (ε/C)·Σ_c w[c]·(−p[i, c]),
/// reduced by the mean over Σᵢ w[yᵢ] (PyTorch's weighted mean), the sum, or not at all.
/// </summary>
/// <remarks>
/// With s = softmax(x) and W = Σ_c w[c], per sample i and class c:
///   ∂ℓᵢ/∂x[i, c] = (1 − ε)·w[yᵢ]·(s[i, c] − [c = yᵢ]) + (ε/C)·(W·s[i, c] − w[c])
/// then times the upstream gradient (divided by Σ w[yᵢ] for the mean). Written with the softmax as
/// a recorded op, so second derivatives work. Without weights or smoothing, and when the backward pass is
/// not itself recorded (the training step), the same numbers come from three fused passes instead:
/// softmax, −1 scattered at each target, one multiply by the upstream factor.
/// </remarks>
internal sealed class CrossEntropy(Tensor target, Tensor? weight, double labelSmoothing, Reduction reduction) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2) throw Errors.ShapeError("CrossEntropy", x.Shape, target.Shape, "logits must be [N, C]");
        if (target.Rank != 1 || target.Size(0) != x.Size(0))
            throw Errors.ShapeError("CrossEntropy", x.Shape, target.Shape, "targets must be [N] class indices, one per row of logits");
        if (!target.DType.IsInteger()) throw Errors.DTypeError("CrossEntropy", $"targets must be int32 or int64 class indices, not {target.DType.Name()}");
        int c = x.Size(1);
        if (weight is not null && (weight.Rank != 1 || weight.Size(0) != c))
            throw Errors.ShapeError("CrossEntropy", x.Shape, weight.Shape, $"class weights must be [{c}]");
        if (target.Numel > 0)
        {
            using var lo = target.Min();
            using var hi = target.Max();
            long min = lo.Item<long>(), max = hi.Item<long>();
            if (min < 0 || max >= c)
                throw Errors.IndexError("CrossEntropy", x.Shape, $"target {(min < 0 ? min : max)} is out of range for {c} classes");
        }
        SaveInputs();
        using var scope = Tensor.Scope();
        var logp = x.LogSoftmax(1);
        var y = target.To(DType.Int64).Reshape(-1, 1);
        if (Plain)
        {
            // the general formula with w = 1 and ε = 0, without its multiplications by one
            var picked = logp.Gather(1, y).Reshape(-1).Neg();
            Keep(scope.Keep(y));
            return scope.Keep(reduction switch
            {
                Reduction.Sum => picked.Sum(),
                Reduction.None => picked,
                _ => picked.Sum() / (double)x.Size(0),
            });
        }
        var w = weight ?? Tensor.Ones([c], x.DType, x.Device);
        var wy = w.Gather(0, y.Reshape(-1));                                   // w[yᵢ]
        var nll = logp.Gather(1, y).Reshape(-1).Neg() * wy;
        var loss = nll * (1 - labelSmoothing);
        if (labelSmoothing > 0) loss = loss + (logp * w).Sum(1).Neg() * (labelSmoothing / c);
        Keep(scope.Keep(wy), scope.Keep(w), scope.Keep(y));
        return scope.Keep(reduction switch
        {
            Reduction.Sum => loss.Sum(),
            Reduction.None => loss,
            _ => loss.Sum() / wy.Sum(),
        });
    }

    /// <summary>No class weights and no label smoothing: the common case, with a fused backward.</summary>
    private bool Plain => weight is null && labelSmoothing == 0;

    protected override Variable?[] Backward(Variable g)
    {
        if (Plain && !GradMode.IsEnabled) return [new Variable(FusedGradient(g.Data))];
        if (Plain) return PlainRecorded(g);
        Tensor wy = Kept(0), w = Kept(1), y = Kept(2);
        var x = Saved(0);
        int c = InputShape(0)[1];
        var s = x.Softmax(1);
        using var onehot = OneHot(y, x.Data);
        var dl = (s - onehot) * wy.Reshape(-1, 1) * (1 - labelSmoothing);
        if (labelSmoothing > 0) dl = dl + (s * w.Sum() - w) * (labelSmoothing / c);
        var upstream = reduction switch
        {
            Reduction.None => g.Reshape(-1, 1),
            Reduction.Sum => g,
            _ => g / wy.Sum(),
        };
        return [dl * upstream];
    }

    /// <summary>(softmax(x) − onehot(y)) · upstream, written into the softmax's own buffer.</summary>
    private Tensor FusedGradient(Tensor g)
    {
        Tensor y = Kept(0), x = Saved(0).Data;
        int n = x.Size(0);
        var dx = x.Softmax(1);
        using (var minusOne = Tensor.Full([n, 1], -1, x.DType, x.Device))
            dx.ScatterAddInPlace(1, y, minusOne);
        using var upstream = reduction switch
        {
            Reduction.None => g.Reshape(-1, 1),
            Reduction.Sum => g.Reshape([]),
            _ => g / (double)n,
        };
        return dx.MulInPlace(upstream);
    }

    /// <summary>The same gradient as recorded ops, for a backward pass that is itself differentiated.</summary>
    private Variable?[] PlainRecorded(Variable g)
    {
        Tensor y = Kept(0);
        var x = Saved(0);
        using var onehot = OneHot(y, x.Data);
        var upstream = reduction switch
        {
            Reduction.None => g.Reshape(-1, 1),
            Reduction.Sum => g,
            _ => g / (double)x.Size(0),
        };
        return [(x.Softmax(1) - onehot) * upstream];
    }

    /// <summary>onehot[i, c] = [c = yᵢ], shaped and typed like the logits <paramref name="x"/>.</summary>
    private static Tensor OneHot(Tensor y, Tensor x)
    {
        using var ones = Tensor.Ones([y.Size(0), 1], x.DType, x.Device);
        return Tensor.Zeros(x.Shape.ToArray(), x.DType, x.Device).ScatterAddInPlace(1, y, ones);
    }
}
