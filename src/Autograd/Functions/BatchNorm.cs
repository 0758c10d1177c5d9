namespace Engine.Functions;

/// <summary>
/// Batch normalisation over [N, C] or [N, C, H, W]: per channel c,
/// x̂ = (x − μ) / √(σ² + ε) and y = γ·x̂ + β. Training uses the batch's μ and (biased) σ² and
/// updates the running statistics: r ← (1 − m)·r + m·stat, with the unbiased variance for
/// r_var (PyTorch's rule); evaluation uses the running statistics.
/// </summary>
/// <remarks>
/// Training, with M elements per channel and sums over (n, i, j):
///   ∂L/∂x = γ / (M √(σ² + ε)) · (M·g − Σg − x̂·Σ(g·x̂))
///   ∂L/∂γ = Σ(g·x̂)        ∂L/∂β = Σg
/// Evaluation: ∂L/∂x = g·γ / √(r_var + ε).
/// When the backward pass is itself recorded (second-order gradients), the same formulas are
/// written with Variable ops, x̂ and s recomputed from x, so that they can be differentiated again.
/// </remarks>
internal sealed class BatchNorm(Tensor? runningMean, Tensor? runningVar, bool training, double momentum, double eps) : Function
{
    private static int[] Axes(int rank) => rank == 4 ? [0, 2, 3] : [0];

    private static int[] ChannelShape(ReadOnlySpan<int> x) => x.Length == 4 ? [1, x[1], 1, 1] : [1, x[1]];

    protected override Tensor Forward(Tensor[] inputs)
    {
        var x = inputs[0];
        if (x.Rank != 2 && x.Rank != 4)
            throw Errors.ShapeError("BatchNorm", x.Shape, $"input must be [N, C] or [N, C, H, W], not rank {x.Rank}");
        var axes = Axes(x.Rank);
        var cs = ChannelShape(x.Shape);
        using var scope = Tensor.Scope();
        Tensor mean, invStd;
        if (training)
        {
            long m = x.Numel / x.Size(1);
            if (m < 2) throw Errors.ShapeError("BatchNorm", x.Shape, "training needs more than one value per channel");
            (mean, var var, invStd) = Normalization.Statistics(x, axes, eps);
            if (runningMean is not null && runningVar is not null)
            {
                // the running variance is the unbiased one: σ²·M/(M − 1)
                runningMean.MulInPlace(1 - momentum).AddInPlace(mean.Reshape(-1) * momentum);
                runningVar.MulInPlace(1 - momentum).AddInPlace(var.Reshape(-1) * (momentum * m / (m - 1)));
            }
        }
        else
        {
            mean = runningMean!.Reshape(cs);
            invStd = (runningVar!.Reshape(cs) + eps).Sqrt().Reciprocal();
        }
        var xhat = (x - mean) * invStd;
        var y = xhat;
        if (inputs.Length > 1) y = y * inputs[1].Reshape(cs);
        if (inputs.Length > 2) y = y + inputs[2].Reshape(cs);
        Keep(scope.Keep(xhat), scope.Keep(invStd), scope.Keep(mean));
        SaveInputs(0);
        return scope.Keep(y);
    }

    protected override Variable?[] Backward(Variable g)
    {
        if (GradMode.IsEnabled) return RecordedBackward(g);
        var gt = g.Data;
        var xhat = Kept(0);
        var invStd = Kept(1);
        var axes = Axes(gt.Rank);
        var cs = ChannelShape(gt.Shape);
        var grads = new Variable?[Inputs.Count];
        using var scope = Tensor.Scope();
        var gamma = Inputs.Count > 1 ? Inputs[1].Data.Reshape(cs) : Tensor.Ones(cs, gt.DType);
        if (NeedsGrad(0))
        {
            var gx = training ? Normalization.InputGrad(gt * gamma, xhat, invStd, axes) : gt * gamma * invStd;
            grads[0] = new Variable(scope.Keep(gx));
        }
        if (Inputs.Count > 1 && NeedsGrad(1)) grads[1] = new Variable(scope.Keep((gt * xhat).Sum(axes)));
        if (Inputs.Count > 2 && NeedsGrad(2)) grads[2] = new Variable(scope.Keep(gt.Sum(axes)));
        return grads;
    }

    /// <summary>The backward formulas as recorded ops, for a backward pass that is itself differentiated.</summary>
    private Variable?[] RecordedBackward(Variable g)
    {
        var axes = Axes(g.Rank);
        var cs = ChannelShape(g.Shape);
        var grads = new Variable?[Inputs.Count];
        var x = Saved(0);
        Variable xhat, invStd;
        if (training) (xhat, invStd) = Normalization.Standardize(x, axes, eps);
        else
        {
            // the running statistics are constants
            invStd = new Variable(Kept(1));
            xhat = (x - new Variable(Kept(2))) * invStd;
        }
        var gHat = Inputs.Count > 1 ? g * Input(1).Reshape(cs) : g;
        if (NeedsGrad(0)) grads[0] = training ? Normalization.InputGrad(gHat, xhat, invStd, axes) : gHat * invStd;
        if (Inputs.Count > 1 && NeedsGrad(1)) grads[1] = (g * xhat).Sum(axes);
        if (Inputs.Count > 2 && NeedsGrad(2)) grads[2] = g.Sum(axes);
        return grads;
    }
}
