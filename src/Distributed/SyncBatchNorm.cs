using Engine.Layers;

namespace Engine.Distributed;

/// <summary>
/// Batch normalisation whose training statistics are those of the whole job's batch: each process sums
/// its part per channel (Σx, Σx², the count), the sums are all-reduced, and every process normalises with
/// the global mean and variance. The all-reduce is differentiable (its backward all-reduces the gradient),
/// so backward, too, sees the whole batch: the same result as one process's BatchNorm on the whole batch.
/// Use it in place of <see cref="BatchNorm2d"/>/<see cref="BatchNorm1d"/> when each process's share of a
/// batch is too small for good statistics (by default, as in PyTorch's DDP, each process normalises its own).
/// Evaluation and a frozen layer use the running statistics, like BatchNorm.
/// </summary>
public sealed class SyncBatchNorm : Module
{
    private readonly ProcessGroup _group;

    /// <summary>Creates the layer for <paramref name="numFeatures"/> channels with γ = 1, β = 0, running mean 0 and variance 1.</summary>
    public SyncBatchNorm(int numFeatures, ProcessGroup group, double eps = 1e-5, double momentum = 0.1)
    {
        if (numFeatures < 1) throw new EngineException($"SyncBatchNorm: numFeatures must be positive, not {numFeatures}");
        _group = group;
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = RegisterParameter("weight", Tensor.Ones([numFeatures]));
        Bias = RegisterParameter("bias", Tensor.Zeros([numFeatures]));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([numFeatures]));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([numFeatures]));
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Weight of the newest batch in the running statistics.</summary>
    public double Momentum { get; }
    /// <summary>γ.</summary>
    public Parameter Weight { get; }
    /// <summary>β.</summary>
    public Parameter Bias { get; }
    /// <summary>Running mean (a buffer).</summary>
    public Tensor RunningMean { get; }
    /// <summary>Running (unbiased) variance (a buffer).</summary>
    public Tensor RunningVar { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable x)
    {
        if (x.Rank is not (2 or 4) || x.Size(1) != NumFeatures)
            throw Errors.ShapeError("SyncBatchNorm", x.Shape, $"input must be [N, {NumFeatures}] or [N, {NumFeatures}, H, W]");
        int[] axes = x.Rank == 4 ? [0, 2, 3] : [0];
        int[] channelShape = x.Rank == 4 ? [1, NumFeatures, 1, 1] : [1, NumFeatures];
        if (!IsTraining || IsFrozen)
            return Functional.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, training: false, Momentum, Eps);

        double count = x.Numel / NumFeatures;
        Span<double> total = [count];
        _group.AllReduce(total);
        var sum = AllReduceSum.Apply(_group, x.Sum(axes));
        var sumSquares = AllReduceSum.Apply(_group, (x * x).Sum(axes));
        var mean = sum / total[0];
        var variance = sumSquares / total[0] - mean * mean;          // biased, as normalisation uses
        using (GradMode.NoGrad())
        {
            double unbiased = total[0] / Math.Max(total[0] - 1, 1);
            RunningMean.MulInPlace(1 - Momentum).AddInPlace(mean.Data * Momentum);
            RunningVar.MulInPlace(1 - Momentum).AddInPlace(variance.Data * (Momentum * unbiased));
        }
        var normalized = (x - mean.Reshape(channelShape)) / (variance.Reshape(channelShape) + Eps).Sqrt();
        return normalized * Weight.Reshape(channelShape) + Bias.Reshape(channelShape);
    }
}

/// <summary>y = Σ over processes of x (an all-reduce); ∂L/∂x = Σ over processes of ∂L/∂y.</summary>
internal sealed class AllReduceSum(ProcessGroup group) : UnaryFunction
{
    public static Variable Apply(ProcessGroup group, Variable x) => new AllReduceSum(group).Apply(x);

    protected override Tensor Forward(Tensor x)
    {
        var y = x.Contiguous().Clone();
        group.AllReduce(y);
        return y;
    }

    protected override Variable?[] Backward(Variable g)
    {
        var sum = g.Data.Contiguous().Clone();
        group.AllReduce(sum);
        return [new Variable(sum)];
    }
}
