using Engine.Kernels;

namespace Engine;

// Reductions. Axes may be negative; no axes means all of them. The result drops the reduced
// dims unless keepDim is set, in which case they stay with size 1 (ready to broadcast back).
public sealed partial class Tensor
{
    private static int[] KeptShape(ReadOnlySpan<int> shape, int[] axes)
    {
        var s = shape.ToArray();
        foreach (int a in axes) s[a] = 1;
        return s;
    }

    private static int[] DroppedShape(ReadOnlySpan<int> shape, int[] axes)
    {
        var s = new List<int>();
        for (int d = 0; d < shape.Length; d++)
            if (Array.IndexOf(axes, d) < 0) s.Add(shape[d]);
        return [.. s];
    }

    private Tensor ReduceCore(ReduceOp op, string name, int[] axes, bool keepDim)
    {
        CheckAlive(name);
        CheckDType(name, op, OpSupport.Supports);
        var norm = NormalizeAxes(name, axes);
        if (op != ReduceOp.Sum)
            foreach (int a in norm)
                if (_shape[a] == 0)
                    throw Errors.ShapeError(name, _shape, $"cannot reduce over axis {a} of size 0: {name} has no identity");
        var y = Empty(KeptShape(_shape, norm), DType, Device);
        if (y.Numel > 0) Backend.Reduce(op, DType, BufferView(name), norm, y.BufferView(name));
        GC.KeepAlive(this);
        if (keepDim) return y;
        using (y) return y.View(DroppedShape(_shape, norm));
    }

    /// <summary>
    /// Sums this tensor down to <paramref name="shape"/>, which must broadcast to this tensor's
    /// shape: the adjoint of broadcasting, used to return the gradient of a broadcast operand.
    /// </summary>
    public Tensor SumTo(ReadOnlySpan<int> shape)
    {
        const string op = "SumTo";
        CheckAlive(op);
        var target = shape.ToArray();
        if (target.Length > Rank) throw Errors.ShapeError(op, _shape, target, "the target has more dims than the tensor");
        int lead = Rank - target.Length;
        var axes = new List<int>();
        for (int d = 0; d < Rank; d++)
        {
            if (d < lead) { axes.Add(d); continue; }
            int want = target[d - lead];
            if (want == _shape[d]) continue;
            if (want != 1) throw Errors.ShapeError(op, _shape, target, $"size {_shape[d]} at dim {d} cannot be summed to {want}");
            axes.Add(d);
        }
        if (axes.Count == 0) return Alias();
        using var kept = Sum([.. axes], keepDim: true);
        return kept.Reshape(target);
    }

    /// <summary>True when no element is NaN or infinite (always true for integer and bool tensors).</summary>
    public bool AllFinite()
    {
        CheckAlive("AllFinite");
        if (!DType.IsFloating() || Numel == 0) return true;
        using var a = Abs();
        using var m = a.Max();
        return double.IsFinite(m.Item<double>());
    }

    /// <summary>Σ over all elements (rank 0). Bool and int32 sum to int64.</summary>
    public Tensor Sum() => Sum([], false);

    /// <summary>Σ along one axis.</summary>
    public Tensor Sum(int axis, bool keepDim = false) => Sum([axis], keepDim);

    /// <summary>Σ along the given axes (all when empty). Bool and int32 sum to int64.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        if (DType is DType.Bool or DType.Int32)
        {
            using var wide = To(DType.Int64);
            return wide.ReduceCore(ReduceOp.Sum, "Sum", axes, keepDim);
        }
        return ReduceCore(ReduceOp.Sum, "Sum", axes, keepDim);
    }

    /// <summary>The largest element (rank 0); NaN if any is NaN.</summary>
    public Tensor Max() => ReduceCore(ReduceOp.Max, "Max", [], false);

    /// <summary>The largest element along one axis (values only; see <see cref="ArgMax"/> for indices).</summary>
    public Tensor Max(int axis, bool keepDim = false) => ReduceCore(ReduceOp.Max, "Max", [axis], keepDim);

    /// <summary>The largest element along the given axes.</summary>
    public Tensor Max(int[] axes, bool keepDim = false) => ReduceCore(ReduceOp.Max, "Max", axes, keepDim);

    /// <summary>The smallest element (rank 0); NaN if any is NaN.</summary>
    public Tensor Min() => ReduceCore(ReduceOp.Min, "Min", [], false);

    /// <summary>The smallest element along one axis.</summary>
    public Tensor Min(int axis, bool keepDim = false) => ReduceCore(ReduceOp.Min, "Min", [axis], keepDim);

    /// <summary>The smallest element along the given axes.</summary>
    public Tensor Min(int[] axes, bool keepDim = false) => ReduceCore(ReduceOp.Min, "Min", axes, keepDim);

    private Tensor ArgReduce(ArgReduceOp op, int? axis, bool keepDim)
    {
        string name = op.ToString();
        CheckAlive(name);
        if (DType == DType.Bool) CheckDType(name, false, t => t != DType.Bool);
        int[] axes = axis is { } a ? [NormalizeAxis(name, a)] : [.. Enumerable.Range(0, Rank)];
        foreach (int d in axes)
            if (_shape[d] == 0) throw Errors.ShapeError(name, _shape, $"cannot take {name} over axis {d} of size 0");
        var y = Empty(KeptShape(_shape, axes), DType.Int64, Device);
        if (y.Numel > 0) Backend.ArgReduce(op, DType, BufferView(name), axes, y.BufferView(name));
        GC.KeepAlive(this);
        if (keepDim && axis is not null) return y;
        using (y) return y.View(axis is null ? [] : DroppedShape(_shape, axes));
    }

    /// <summary>Int64 index of the largest element along <paramref name="axis"/>, or in the flattened tensor; first wins ties, NaN counts as largest.</summary>
    public Tensor ArgMax(int? axis = null, bool keepDim = false) => ArgReduce(ArgReduceOp.ArgMax, axis, keepDim);

    /// <summary>Int64 index of the smallest element along <paramref name="axis"/>, or in the flattened tensor; first wins ties, NaN counts as smallest.</summary>
    public Tensor ArgMin(int? axis = null, bool keepDim = false) => ArgReduce(ArgReduceOp.ArgMin, axis, keepDim);

    private long ReducedCount(string op, int[] axes)
    {
        long n = 1;
        foreach (int a in NormalizeAxes(op, axes)) n *= _shape[a];
        return n;
    }

    private void RequireFloat(string op)
    {
        CheckAlive(op);
        CheckDType(op, DType.IsFloating(), Floats);
    }

    /// <summary>The mean over all elements.</summary>
    public Tensor Mean() => Mean([], false);

    /// <summary>The mean along one axis.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);

    /// <summary>The mean along the given axes (NaN over an empty set).</summary>
    public Tensor Mean(int[] axes, bool keepDim = false)
    {
        RequireFloat("Mean");
        long n = ReducedCount("Mean", axes);
        using var s = Sum(axes, keepDim);
        return s / n;
    }

    /// <summary>The variance over all elements, Σ(x - mean)² / (N - 1) (Bessel's correction, PyTorch's default).</summary>
    /// <remarks>
    /// For another correction over all elements pass no axes: <c>Var([], correction: 0)</c>. There is no
    /// <c>Var(int correction)</c>: as in PyTorch, <c>x.Var(1)</c> is the variance along axis 1.
    /// </remarks>
    public Tensor Var() => Var([], false, 1);

    /// <summary>The variance along one axis, Σ(x - mean)² / (N - <paramref name="correction"/>); <c>x.Var(1)</c> is per row of a matrix, as PyTorch's <c>x.var(1)</c>.</summary>
    public Tensor Var(int axis, bool keepDim = false, int correction = 1) => Var([axis], keepDim, correction);

    /// <summary>The variance along the given axes (all when empty), Σ(x - mean)² / (N - <paramref name="correction"/>) (correction 1: Bessel's, PyTorch's default; 0: the population variance).</summary>
    public Tensor Var(int[] axes, bool keepDim = false, int correction = 1)
    {
        RequireFloat("Var");
        long n = ReducedCount("Var", axes);
        using var scope = Scope();
        var mean = Mean(axes, keepDim: true);
        var sq = (this - mean).Square();
        return scope.Keep(sq.Sum(axes, keepDim) / Math.Max(n - correction, 0));
    }

    /// <summary>The standard deviation over all elements, √Var (correction 1); for another correction use <c>Std([], correction: 0)</c>.</summary>
    public Tensor Std() => Std([], false, 1);

    /// <summary>The standard deviation along one axis, √Var; <c>x.Std(1)</c> is per row of a matrix, as in PyTorch.</summary>
    public Tensor Std(int axis, bool keepDim = false, int correction = 1) => Std([axis], keepDim, correction);

    /// <summary>The standard deviation along the given axes (all when empty), √Var.</summary>
    public Tensor Std(int[] axes, bool keepDim = false, int correction = 1)
    {
        using var v = Var(axes, keepDim, correction);
        return v.Sqrt();
    }

    /// <summary>ln Σ eˣ along the given axes, computed as m + ln Σ e^(x-m) with m the maximum (infinite m taken as 0).</summary>
    public Tensor LogSumExp(int[] axes, bool keepDim = false)
    {
        RequireFloat("LogSumExp");
        using var scope = Scope();
        var norm = NormalizeAxes("LogSumExp", axes);
        Tensor m;
        if (norm.Any(a => _shape[a] == 0)) m = Zeros(KeptShape(_shape, norm), DType, Device);
        else
        {
            var raw = Max(norm, keepDim: true);
            using var finite = raw.Abs().Lt(double.PositiveInfinity);
            using var zero = ZerosLike(raw);
            m = Where(finite, raw, zero);
        }
        var lse = (this - m).Exp().Sum(norm, keepDim: true).Log() + m;
        return scope.Keep(keepDim ? lse.Contiguous() : lse.View(DroppedShape(_shape, norm)));
    }

    /// <summary>ln Σ eˣ along one axis.</summary>
    public Tensor LogSumExp(int axis, bool keepDim = false) => LogSumExp([axis], keepDim);

    private Tensor SoftmaxCore(int axis, bool log)
    {
        string name = log ? "LogSoftmax" : "Softmax";
        RequireFloat(name);
        int a = NormalizeAxis(name, axis);
        var y = Empty(_shape, DType, Device);
        if (y.Numel > 0) Backend.Softmax(DType, BufferView(name), a, log, y.BufferView(name));
        GC.KeepAlive(this);
        return y;
    }

    /// <summary>e^(x - max) / Σ e^(x - max) along <paramref name="axis"/>.</summary>
    public Tensor Softmax(int axis) => SoftmaxCore(axis, false);

    /// <summary>x - max - ln Σ e^(x - max) along <paramref name="axis"/>.</summary>
    public Tensor LogSoftmax(int axis) => SoftmaxCore(axis, true);
}
