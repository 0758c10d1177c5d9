using Engine.Kernels;

namespace Engine;

// Movement ops: each returns a new handle on the same storage with another layout; only
// Reshape (when no view is possible) and Contiguous copy.
public sealed partial class Tensor
{
    /// <summary>Resolves one -1 in a requested shape and checks the element count.</summary>
    private int[] InferShape(string op, ReadOnlySpan<int> shape)
    {
        var result = shape.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (infer >= 0) throw Errors.ShapeError(op, _shape, result, "only one size may be -1");
                infer = i;
            }
            else if (result[i] < 0) throw Errors.ShapeError(op, _shape, result, "sizes must be non-negative or -1");
            // saturating: a product past any tensor's size stays above it instead of wrapping around
            else known = result[i] == 0 ? 0 : known > Layout.MaxNumel / result[i] ? Layout.MaxNumel + 1 : known * result[i];
        }
        if (known > Layout.MaxNumel && !result.Contains(0))
            throw Errors.ShapeError(op, _shape, result, $"the shape holds more than 2^60 elements; the tensor holds {Numel}");
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0 || Numel / known > int.MaxValue)
                throw Errors.ShapeError(op, _shape, result, $"cannot infer the size -1 for {Numel} elements");
            result[infer] = (int)(Numel / known);
        }
        else if (known != Numel)
            throw Errors.ShapeError(op, _shape, result, $"{Numel} elements cannot take a shape of {known}");
        return result;
    }

    /// <summary>
    /// Strides that let the new shape see the same memory, or null when the old strides do not allow
    /// it: every run of old dimensions that is contiguous in memory must be split or merged as a whole.
    /// </summary>
    private static long[]? ViewStrides(int[] oldShape, long[] oldStrides, int[] newShape)
    {
        if (Layout.NumelOf(oldShape) == 0 || oldShape.Length == 0) return Layout.ContiguousStrides(newShape);
        var newStrides = new long[newShape.Length];
        int viewD = newShape.Length - 1;
        long chunkStride = oldStrides[^1], tensorNumel = 1, viewNumel = 1;
        for (int d = oldShape.Length - 1; d >= 0; d--)
        {
            tensorNumel *= oldShape[d];
            bool chunkEnds = d == 0 || (oldShape[d - 1] != 1 && oldStrides[d - 1] != tensorNumel * chunkStride);
            if (!chunkEnds) continue;
            while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
            {
                newStrides[viewD] = viewNumel * chunkStride;
                viewNumel *= newShape[viewD];
                viewD--;
            }
            if (viewNumel != tensorNumel) return null;
            if (d > 0)
            {
                chunkStride = oldStrides[d - 1];
                tensorNumel = 1;
                viewNumel = 1;
            }
        }
        return viewD == -1 ? newStrides : null;
    }

    /// <summary>The same elements in a new shape (one size may be -1); a view when the layout allows, else a copy.</summary>
    public Tensor Reshape(params int[] shape)
    {
        CheckAlive("Reshape");
        var s = InferShape("Reshape", shape);
        var strides = ViewStrides(_shape, _strides, s);
        if (strides != null) return ViewAs(s, strides, _offset);
        using var c = Contiguous();
        return c.ViewAs(s, Layout.ContiguousStrides(s), c._offset);
    }

    /// <summary>The same memory in a new shape; fails when the layout cannot be viewed that way (use Reshape).</summary>
    public Tensor View(params int[] shape)
    {
        CheckAlive("View");
        var s = InferShape("View", shape);
        var strides = ViewStrides(_shape, _strides, s)
            ?? throw Errors.ShapeError("View", _shape, s, "the strides of this view do not allow it; call Reshape (which copies) or Contiguous first");
        return ViewAs(s, strides, _offset);
    }

    /// <summary>Dimensions reordered: result dim i is this tensor's dim <paramref name="dims"/>[i].</summary>
    public Tensor Permute(params int[] dims)
    {
        CheckAlive("Permute");
        if (dims.Length != Rank)
            throw Errors.ShapeError("Permute", _shape, $"{dims.Length} dims given for rank {Rank}");
        var seen = new bool[Rank];
        var shape = new int[Rank];
        var strides = new long[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = NormalizeAxis("Permute", dims[i]);
            if (seen[d]) throw Errors.ShapeError("Permute", _shape, $"dim {dims[i]} appears twice in ({string.Join(", ", dims)})");
            seen[d] = true;
            shape[i] = _shape[d];
            strides[i] = _strides[d];
        }
        return ViewAs(shape, strides, _offset);
    }

    /// <summary>Two dimensions exchanged.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        CheckAlive("Transpose");
        int a = NormalizeAxis("Transpose", dim0), b = NormalizeAxis("Transpose", dim1);
        var l = Layout.Transpose(a, b);
        return ViewAs(l.Shape, l.Strides, _offset);
    }

    /// <summary>The matrix transpose of a rank-2 tensor (PyTorch's <c>.T</c> for matrices).</summary>
    public Tensor T
    {
        get
        {
            if (Rank != 2) throw Errors.ShapeError("T", _shape, "needs a rank-2 tensor; use Transpose or Permute");
            return Transpose(0, 1);
        }
    }

    /// <summary>Elements start, start+step, … below end along <paramref name="dim"/> (Python's <c>x[start:end:step]</c>; negative start/end count from the end and are clamped).</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        CheckAlive("Slice");
        int d = NormalizeAxis("Slice", dim);
        if (step <= 0) throw Errors.ShapeError("Slice", _shape, $"step {step} must be positive");
        int n = _shape[d];
        int s = Math.Clamp(start < 0 ? start + n : start, 0, n);
        int e = Math.Clamp(end < 0 ? end + n : end, 0, n);
        int len = e > s ? (e - s + step - 1) / step : 0;
        var shape = (int[])_shape.Clone();
        var strides = (long[])_strides.Clone();
        shape[d] = len;
        strides[d] = _strides[d] * step;
        return ViewAs(shape, strides, _offset + (len > 0 ? s * _strides[d] : 0));
    }

    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along <paramref name="dim"/>; both must be in range.</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        CheckAlive("Narrow");
        int d = NormalizeAxis("Narrow", dim);
        int s = start < 0 ? start + _shape[d] : start;
        if (s < 0 || length < 0 || s + length > _shape[d])
            throw Errors.ShapeError("Narrow", _shape, $"start {start} and length {length} do not fit in axis {dim} of size {_shape[d]}");
        return Slice(d, s, s + length);
    }

    /// <summary>The sub-tensor at <paramref name="index"/> along <paramref name="dim"/>, which is removed (Python's <c>x[i]</c>).</summary>
    public Tensor Select(int dim, int index)
    {
        CheckAlive("Select");
        int d = NormalizeAxis("Select", dim);
        int i = index < 0 ? index + _shape[d] : index;
        if (i < 0 || i >= _shape[d])
            throw Errors.IndexError("Select", _shape, $"index {index} is out of range for axis {dim} of size {_shape[d]}");
        return ViewAs([.. _shape[..d], .. _shape[(d + 1)..]], [.. _strides[..d], .. _strides[(d + 1)..]], _offset + i * _strides[d]);
    }

    /// <summary>A view broadcast to <paramref name="shape"/> (size-1 dims repeat with stride 0; -1 keeps a size; new leading dims allowed).</summary>
    public Tensor Expand(params int[] shape)
    {
        CheckAlive("Expand");
        if (shape.Length < Rank)
            throw Errors.ShapeError("Expand", _shape, shape, $"the target rank {shape.Length} is below the tensor's rank {Rank}");
        var outShape = new int[shape.Length];
        var strides = new long[shape.Length];
        int lead = shape.Length - Rank;
        for (int i = 0; i < shape.Length; i++)
        {
            int want = shape[i];
            if (i < lead)
            {
                if (want < 0) throw Errors.ShapeError("Expand", _shape, shape, $"size -1 is not allowed for the new leading dim {i}");
                outShape[i] = want;
                continue;
            }
            int have = _shape[i - lead];
            if (want == -1 || want == have)
            {
                outShape[i] = have;
                strides[i] = _strides[i - lead];
            }
            else if (have == 1 && want >= 0) outShape[i] = want;
            else throw Errors.ShapeError("Expand", _shape, shape, $"size {have} at dim {i - lead} cannot expand to {want}; only size-1 dims expand");
        }
        return ViewAs(outShape, strides, _offset);
    }

    /// <summary>Removes size-1 dims: all of them, or only <paramref name="dims"/> (others given must have size 1).</summary>
    public Tensor Squeeze(params int[] dims)
    {
        CheckAlive("Squeeze");
        var drop = new bool[Rank];
        if (dims.Length == 0)
            for (int d = 0; d < Rank; d++) drop[d] = _shape[d] == 1;
        foreach (int dim in dims)
        {
            int d = NormalizeAxis("Squeeze", dim);
            if (_shape[d] != 1) throw Errors.ShapeError("Squeeze", _shape, $"dim {dim} has size {_shape[d]}, not 1");
            drop[d] = true;
        }
        var shape = new List<int>();
        var strides = new List<long>();
        for (int d = 0; d < Rank; d++)
            if (!drop[d]) { shape.Add(_shape[d]); strides.Add(_strides[d]); }
        return ViewAs([.. shape], [.. strides], _offset);
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/> (in the result's numbering; -1 appends).</summary>
    public Tensor Unsqueeze(int dim)
    {
        CheckAlive("Unsqueeze");
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw Errors.ShapeError("Unsqueeze", _shape, $"dim {dim} is out of range for inserting into rank {Rank}");
        long stride = d < Rank ? _strides[d] * _shape[d] : 1;
        return ViewAs([.. _shape[..d], 1, .. _shape[d..]], [.. _strides[..d], stride, .. _strides[d..]], _offset);
    }

    /// <summary>Dims <paramref name="startDim"/> … <paramref name="endDim"/> merged into one (a view when possible).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        CheckAlive("Flatten");
        if (Rank == 0) return Reshape(1);
        int s = NormalizeAxis("Flatten", startDim), e = NormalizeAxis("Flatten", endDim);
        if (s > e) throw Errors.ShapeError("Flatten", _shape, $"start dim {startDim} comes after end dim {endDim}");
        long merged = 1;
        for (int d = s; d <= e; d++) merged *= _shape[d];
        return Reshape([.. _shape[..s], (int)merged, .. _shape[(e + 1)..]]);
    }

    /// <summary>A tensor with the same values in row-major contiguous memory (a new handle on the same storage when already so).</summary>
    public Tensor Contiguous()
    {
        CheckAlive("Contiguous");
        if (IsContiguous) return Alias();
        var y = Empty(_shape, DType, Device);
        Backend.Copy(DType, BufferView("Contiguous"), DType, y.BufferView("Contiguous"));
        GC.KeepAlive(this);
        return y;
    }

    /// <summary>
    /// Copies the elements, in row-major order, into <paramref name="destination"/> (exactly
    /// <see cref="Numel"/> long; <typeparamref name="T"/> must match the dtype), without allocating an array:
    /// what a transport (MPI, a file) reads from.
    /// </summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckAlive("CopyTo");
        CheckSpan<T>("CopyTo", destination.Length);
        if (destination.IsEmpty) return;
        using var c = Contiguous();
        c.Backend.Download(c._storage.Buffer, c._offset, destination);
        GC.KeepAlive(c);
    }

    /// <summary>
    /// Overwrites the elements, in row-major order, with <paramref name="source"/> (exactly
    /// <see cref="Numel"/> long, <typeparamref name="T"/> matching the dtype). The tensor must be
    /// contiguous; an in-place write, like <see cref="CopyFrom(Tensor)"/>.
    /// </summary>
    public void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        CheckAlive("CopyFrom");
        CheckSpan<T>("CopyFrom", source.Length);
        if (!IsContiguous) throw Errors.ShapeError("CopyFrom", _shape, "the tensor is a non-contiguous view: copy into a contiguous tensor");
        if (!source.IsEmpty) Backend.Upload(source, _storage.Buffer, _offset);
        BumpVersion();
        GC.KeepAlive(this);
    }

    private void CheckSpan<T>(string op, int length) where T : unmanaged
    {
        if (typeof(T) == typeof(bool) || DType == DType.Bool || DTypes.Of<T>() != DType)
            throw Errors.DTypeError(op, $"the tensor's dtype is {DType.Name()} but the span holds {typeof(T).Name}");
        if (length != Numel)
            throw Errors.ShapeError(op, _shape, $"the span holds {length} elements but the tensor {Numel}");
    }

    /// <summary>Copies <paramref name="source"/> (broadcast to this shape, same dtype or converted) into this tensor's memory.</summary>
    public void CopyFrom(Tensor source)
    {
        CheckAlive("CopyFrom");
        SameDevice("CopyFrom", this, source);
        using var s = source.BroadcastTo("CopyFrom", _shape);
        if (Numel > 0) Backend.Copy(source.DType, s.BufferView("CopyFrom"), DType, BufferView("CopyFrom"));
        BumpVersion();
        GC.KeepAlive(this);
    }
}
