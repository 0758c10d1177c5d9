using Engine.Kernels;

namespace Engine;

// Indexing, joining and padding.
public sealed partial class Tensor
{
    private static void CheckIndexTensor(string op, Tensor index)
    {
        index.CheckAlive(op);
        if (!index.DType.IsInteger())
            throw Errors.DTypeError(op, $"indices must be int32 or int64, not {index.DType.Name()}");
    }

    /// <summary>The slices at <paramref name="index"/> (1-D, int32 or int64) along <paramref name="axis"/>; an embedding lookup is <c>table.IndexSelect(0, ids)</c>.</summary>
    public Tensor IndexSelect(int axis, Tensor index)
    {
        const string op = "IndexSelect";
        CheckAlive(op);
        CheckIndexTensor(op, index);
        SameDevice(op, this, index);
        int a = NormalizeAxis(op, axis);
        if (index.Rank != 1) throw Errors.ShapeError(op, _shape, index._shape, "the index must be 1-D");
        var shape = _shape.ToArray();
        shape[a] = index._shape[0];
        var y = Empty(shape, DType, Device);
        if (y.Numel > 0)
            Backend.IndexSelect(DType, BufferView(op), a, index.DType, index.BufferView(op), y.BufferView(op));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        return y;
    }

    private void CheckGatherShapes(string op, int axis, Tensor index, Tensor? src)
    {
        if (index.Rank != Rank)
            throw Errors.ShapeError(op, _shape, index._shape, $"the index must have the same rank as the tensor ({Rank})");
        for (int d = 0; d < Rank; d++)
        {
            if (d != axis && index._shape[d] > _shape[d])
                throw Errors.ShapeError(op, _shape, index._shape, $"index size {index._shape[d]} at dim {d} exceeds the tensor's {_shape[d]}");
            if (src is not null && index._shape[d] > src._shape[d])
                throw Errors.ShapeError(op, index._shape, src._shape, $"index size {index._shape[d]} at dim {d} exceeds the source's {src._shape[d]}");
        }
    }

    /// <summary>PyTorch's gather: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1; the result has the index's shape.</summary>
    public Tensor Gather(int axis, Tensor index)
    {
        const string op = "Gather";
        CheckAlive(op);
        CheckIndexTensor(op, index);
        SameDevice(op, this, index);
        int a = NormalizeAxis(op, axis);
        CheckGatherShapes(op, a, index, null);
        var y = Empty(index._shape.ToArray(), DType, Device);
        if (y.Numel > 0)
            Backend.Gather(DType, BufferView(op), a, index.DType, index.BufferView(op), y.BufferView(op));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        return y;
    }

    /// <summary>A copy of this tensor with src added at the indexed places: out[i][index[i][j]] += src[i][j] for axis 1 (fixed order, deterministic).</summary>
    public Tensor ScatterAdd(int axis, Tensor index, Tensor src)
    {
        var y = Clone();
        try
        {
            return y.ScatterAddInPlace(axis, index, src);
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    /// <summary>In-place <see cref="ScatterAdd"/>; every index is checked before anything is written. Returns this.</summary>
    public Tensor ScatterAddInPlace(int axis, Tensor index, Tensor src)
    {
        const string op = "ScatterAdd";
        CheckAlive(op);
        CheckIndexTensor(op, index);
        src.CheckAlive(op);
        SameDevice(op, this, index);
        SameDevice(op, this, src);
        SameDType(op, this, src);
        if (DType == DType.Bool) CheckDType(op, false, t => t != DType.Bool);
        int a = NormalizeAxis(op, axis);
        if (src.Rank != Rank) throw Errors.ShapeError(op, _shape, src._shape, "the source must have the tensor's rank");
        CheckGatherShapes(op, a, index, src);
        if (index.Numel > 0)
            Backend.ScatterAdd(DType, src.BufferView(op), a, index.DType, index.BufferView(op), BufferView(op));
        BumpVersion();
        GC.KeepAlive(index);
        GC.KeepAlive(src);
        return this;
    }

    /// <summary>One-hot rows: [..., numClasses] with 1 at each label (labels int32/int64 in [0, numClasses)).</summary>
    public Tensor OneHot(int numClasses, DType dtype = DType.Int64)
    {
        const string op = "OneHot";
        CheckAlive(op);
        if (!DType.IsInteger()) throw Errors.DTypeError(op, $"labels must be int32 or int64, not {DType.Name()}");
        if (numClasses < 1) throw Errors.ShapeError(op, _shape, $"numClasses {numClasses} must be at least 1");
        if (Numel > 0)
        {
            using var lo = Min();
            using var hi = Max();
            long min = lo.Item<long>(), max = hi.Item<long>();
            if (min < 0 || max >= numClasses)
                throw Errors.IndexError(op, _shape, $"label {(min < 0 ? min : max)} is outside [0, {numClasses})");
        }
        using var scope = Scope();
        var classes = Arange(0, numClasses, 1, DType, Device);
        var hot = Unsqueeze(-1).Eq(classes);
        return scope.Keep(hot.To(dtype));
    }

    /// <summary>Tensors joined along an existing axis; all other sizes, the dtype and the device must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        const string op = "Concat";
        if (tensors.Count == 0) throw new ShapeException($"{op}: needs at least one tensor");
        var first = tensors[0];
        first.CheckAlive(op);
        int a = first.NormalizeAxis(op, axis);
        int total = 0;
        foreach (var t in tensors)
        {
            t.CheckAlive(op);
            SameDevice(op, first, t);
            SameDType(op, first, t);
            if (t.Rank != first.Rank)
                throw Errors.ShapeError(op, first._shape, t._shape, "all tensors must have the same rank");
            for (int d = 0; d < t.Rank; d++)
                if (d != a && t._shape[d] != first._shape[d])
                    throw Errors.ShapeError(op, first._shape, t._shape, $"sizes {first._shape[d]} and {t._shape[d]} differ at dim {d}, which is not the concat axis {a}");
            total += t._shape[a];
        }
        var shape = first._shape.ToArray();
        shape[a] = total;
        var y = Empty(shape, first.DType, first.Device);
        int at = 0;
        foreach (var t in tensors)
        {
            if (t._shape[a] > 0)
            {
                using var part = y.Narrow(a, at, t._shape[a]);
                part.CopyFrom(t);
            }
            at += t._shape[a];
        }
        return y;
    }

    /// <summary>Tensors of one shape joined along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        const string op = "Stack";
        if (tensors.Count == 0) throw new ShapeException($"{op}: needs at least one tensor");
        foreach (var t in tensors)
        {
            t.CheckAlive(op);
            if (!t._shape.AsSpan().SequenceEqual(tensors[0]._shape))
                throw Errors.ShapeError(op, tensors[0]._shape, t._shape, "all tensors must have the same shape");
        }
        int rank = tensors[0].Rank;
        int a = axis < 0 ? axis + rank + 1 : axis;
        if (a < 0 || a > rank) throw Errors.ShapeError(op, tensors[0]._shape, $"axis {axis} is out of range for stacking rank-{rank} tensors");
        var views = tensors.Select(t => t.Unsqueeze(a)).ToList();
        try { return Concat(views, a); }
        finally { foreach (var v in views) v.Dispose(); }
    }

    /// <summary>
    /// Constant padding, PyTorch's <c>F.pad</c> order: pairs (before, after) starting from the last dim,
    /// so (1, 1, 2, 0) pads the last dim by 1 on each side and the one before it by 2 at the start.
    /// Negative amounts crop.
    /// </summary>
    /// <remarks>
    /// For an image that is (left, right, top, bottom), not <see cref="Padding2d"/>'s constructor order
    /// (top, left, bottom, right); <see cref="Padding2d.ToPad"/> converts.
    /// </remarks>
    /// <param name="pads">Last dim first: left, right, top, bottom, front, back, …; (before, after) for each padded dim.</param>
    /// <param name="value">The value of the added elements.</param>
    public Tensor Pad(int[] pads, double value = 0)
    {
        const string op = "Pad";
        CheckAlive(op);
        if (pads.Length % 2 != 0 || pads.Length / 2 > Rank)
            throw Errors.ShapeError(op, _shape, $"pads ({string.Join(", ", pads)}) must be (before, after) pairs for at most {Rank} dims");
        var shape = _shape.ToArray();
        var src = Alias();
        try
        {
            for (int i = 0; i < pads.Length / 2; i++)
            {
                int d = Rank - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
                shape[d] += before + after;
                if (shape[d] < 0)
                    throw Errors.ShapeError(op, _shape, $"pads ({string.Join(", ", pads)}) leave dim {d} with size {shape[d]}");
                int cropStart = Math.Max(-before, 0), cropEnd = Math.Max(-after, 0);
                if (cropStart > 0 || cropEnd > 0)
                {
                    var cropped = src.Slice(d, cropStart, src._shape[d] - cropEnd);
                    src.Dispose();
                    src = cropped;
                }
            }
            var y = Full(shape, value, DType, Device);
            var region = y.Alias();
            for (int i = 0; i < pads.Length / 2; i++)
            {
                int d = Rank - 1 - i, start = Math.Max(pads[2 * i], 0);
                var narrowed = region.Narrow(d, start, src._shape[d]);
                region.Dispose();
                region = narrowed;
            }
            using (region)
                if (region.Numel > 0) region.CopyFrom(src);
            return y;
        }
        finally
        {
            src.Dispose();
        }
    }
}
