using Engine.Onnx.Proto;

namespace Engine.Onnx;

// Ops that move, select and build values: shapes, views, indexing, padding, casts and the
// shape arithmetic that exporters write (Shape → Gather → Unsqueeze → Concat → Reshape). Integer
// values run as int64 tensors; float values stay Variables, so gradients pass through.
internal static partial class OnnxOps
{
    private static void RegisterShape(Dictionary<string, OpDef> ops)
    {
        ops["Constant"] = new(ConstantOp, Refuse: n => n.Has("sparse_value") ? "a sparse constant" : n.Has("value_string") || n.Has("value_strings") ? "a string constant" : null);
        ops["Shape"] = new(c =>
        {
            var x = c.X(0);
            long[] dims = [.. x.Shape.ToArray().Select(d => (long)d)];
            int rank = dims.Length;
            int Clamp(long v) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
            int start = c.Opset >= 15 ? Clamp(c.Long("start", 0)) : 0, end = c.Opset >= 15 && c.Has("end") ? Clamp(c.Long("end", rank)) : rank;
            return [Constant(Tensor.FromArray(dims[start..Math.Max(start, end)]))];
        });
        ops["Size"] = new(c => [Constant(Tensor.Scalar(c.X(0).Data.Numel, DType.Int64))]);
        ops["Reshape"] = new(Reshape);
        ops["Flatten"] = new(c =>
        {
            var x = c.X(0);
            int given = c.Int("axis", 1), axis = given < 0 ? given + x.Rank : given;
            if (axis < 0 || axis > x.Rank) throw c.Error($"axis {given} is out of range for the input {Errors.Shape(x.Shape)}");
            int outer = 1;
            for (int d = 0; d < axis; d++) outer *= x.Shape[d];
            return [x.Reshape(outer, outer == 0 ? 0 : -1)];
        });
        ops["Squeeze"] = new(c =>
        {
            var x = c.X(0);
            long[]? axes = c.Opset >= 13 ? c.Longs(1) : c.Ints("axes");
            int[] dims = axes is null ? [.. Enumerable.Range(0, x.Rank).Where(d => x.Shape[d] == 1)] : [.. axes.Select(a => c.Axis(a, x.Rank))];
            foreach (int d in dims)
                if (x.Shape[d] != 1) throw c.Error($"axis {d} of {Errors.Shape(x.Shape)} is not 1");
            var keep = Enumerable.Range(0, x.Rank).Where(d => !dims.Contains(d)).Select(d => x.Shape[d]).ToArray();
            return [x.Reshape(keep)];
        });
        ops["Unsqueeze"] = new(c =>
        {
            var x = c.X(0);
            long[] axes = (c.Opset >= 13 ? c.Longs(1) : c.Ints("axes")) ?? throw c.Error("axes are required");
            int rank = x.Rank + axes.Length;
            var at = axes.Select(a => c.Axis(a, rank)).ToHashSet();
            if (at.Count != axes.Length) throw c.Error($"axes [{string.Join(", ", axes)}] repeat an axis");
            var shape = new int[rank];
            for (int d = 0, k = 0; d < rank; d++) shape[d] = at.Contains(d) ? 1 : x.Shape[k++];
            return [x.Reshape(shape)];
        });
        ops["Transpose"] = new(c =>
        {
            var x = c.X(0);
            int[] perm = c.Ints("perm") is { } p ? [.. p.Select(v => c.Axis(v, x.Rank))] : [.. Enumerable.Range(0, x.Rank).Reverse()];
            if (perm.Length != x.Rank || perm.Distinct().Count() != perm.Length) throw c.Error($"perm [{string.Join(", ", perm)}] is not a permutation of {x.Rank} axes");
            return [x.Permute(perm)];
        });
        ops["Concat"] = new(c =>
        {
            var parts = c.All.ToList();
            if (parts.Count == 0) throw c.Error("no inputs to concatenate");
            int rank = parts.Max(p => p.Rank);
            int axis = c.Axis(c.Opset < 4 ? c.Long("axis", 1) : c.Long("axis", long.MinValue) is var a && a == long.MinValue ? throw c.Error("attribute 'axis' is required") : a, rank);
            // an empty 1-D part (a shape of nothing) adds nothing along the axis
            parts = [.. parts.Where(p => !(p.Rank == 1 && p.Shape[0] == 0 && rank > 1))];
            if (parts.Any(p => p.DType != parts[0].DType)) throw c.Error("the inputs mix element types");
            return [parts.Count == 1 ? parts[0] : Variable.Concat(parts, axis)];
        });
        ops["Split"] = new(Split);
        ops["Slice"] = new(Slice);
        ops["Gather"] = new(c =>
        {
            var x = c.X(0);
            int axis = c.Axis(c.Long("axis", 0), x.Rank);
            var index = Indices(c, c.X(1).Data, x.Shape[axis]);
            var flat = Take(x, axis, index.Reshape(-1));
            return [flat.Reshape([.. x.Shape[..axis], .. index.Shape, .. x.Shape[(axis + 1)..]])];
        });
        ops["GatherElements"] = new(c =>
        {
            var x = c.X(0);
            int axis = c.Axis(c.Long("axis", 0), x.Rank);
            var index = Indices(c, c.X(1).Data, x.Shape[axis]);
            return [x.DType.IsFloating() ? x.Gather(axis, index) : Constant(x.Data.Gather(axis, index))];
        });
        ops["GatherND"] = new(GatherND);
        ops["ScatterElements"] = new(ScatterElements);
        ops["Scatter"] = new(ScatterElements);
        ops["ScatterND"] = new(ScatterND);
        ops["Expand"] = new(c =>
        {
            var x = c.X(0);
            long[] target = c.RequiredLongs(1, "shape");
            var shape = Broadcast(c, x.Shape.ToArray(), Sizes(c, target, "shape"));
            return [shape.SequenceEqual(x.Shape.ToArray()) ? x : x.Expand(shape).Contiguous()];
        });
        ops["Tile"] = new(c =>
        {
            var x = c.X(0);
            long[] repeats = c.RequiredLongs(1, "repeats");
            if (repeats.Length != x.Rank) throw c.Error($"repeats [{string.Join(", ", repeats)}] must have one value per axis of {Errors.Shape(x.Shape)}");
            int[] r = Sizes(c, repeats, "repeats");
            // [a, b] tiled [r, s]: viewed [1, a, 1, b], expanded [r, a, s, b], merged [r·a, s·b]
            var view = x.Reshape([.. x.Shape.ToArray().SelectMany(d => new[] { 1, d })]);
            var expanded = view.Expand([.. x.Shape.ToArray().SelectMany((d, i) => new[] { r[i], d })]);
            return [expanded.Contiguous().Reshape([.. x.Shape.ToArray().Select((d, i) => checked(d * r[i]))])];
        });
        ops["Pad"] = new(Pad, Refuse: n => n.String("mode", "constant") is "constant" or "reflect" or "edge" or "wrap" ? null : $"Pad mode '{n.String("mode", "")}'");
        ops["Cast"] = new(c =>
        {
            var to = c.Node.Attribute("to") ?? throw c.Error("attribute 'to' is required");
            var y = Cast(c, c.X(0), DTypeOf(c.Node, to));
            // to float16 or bfloat16: the values rounded to that type, kept as float32 (the gradient passes straight through)
            return Sixteen(to) is { } brain ? [RoundTo16(y, brain)] : [y];
        },
            Refuse: n => n.Attribute("to") is { } to && TryDType(to, out _) is { } why ? why : null);
        ops["CastLike"] = new(c => [Cast(c, c.X(0), c.X(1).DType)]);
        ops["ConstantOfShape"] = new(c =>
        {
            int[] shape = Sizes(c, c.RequiredLongs(0, "shape"), "shape");
            var value = c.Node.TensorAttribute("value");
            if (value is null) return [Constant(Tensor.Zeros(shape, DType.Float32))];
            using var v = OnnxTensors.ToTensor(value, $"{c.Node.Source}: node {OnnxNode.Describe(c.Node.Proto)}: value");
            if (v.Numel != 1) throw c.Error($"value must hold one element, not {v.Numel}");
            return [Constant(v.Reshape([.. Enumerable.Repeat(1, shape.Length)]).Expand(shape).Contiguous())];
        });
        ops["Range"] = new(c =>
        {
            var start = c.X(0);
            double s = c.Scalar(0)!.Value, limit = c.Scalar(1)!.Value, delta = c.Scalar(2)!.Value;
            if (delta == 0) throw c.Error("delta is 0");
            double n = Math.Max(Math.Ceiling((limit - s) / delta), 0);
            if (n > MaxBuilt) throw c.NotSupported($"a Range of {n} values (at most {MaxBuilt})");
            var values = new double[(int)n];
            for (int i = 0; i < values.Length; i++) values[i] = s + i * delta;
            using var d = Tensor.FromArray(values);
            return [Constant(d.To(start.DType))];
        });
        ops["EyeLike"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank != 2) throw c.Error($"the input must be 2-D, not {Errors.Shape(x.Shape)}");
            DType dtype = c.Node.Attribute("dtype") is { } a ? DTypeOf(c.Node, a) : x.DType;
            int k = c.Int("k", 0), rows = x.Shape[0], cols = x.Shape[1];
            var values = new double[rows * cols];
            for (int i = 0; i < rows; i++)
                if (i + k >= 0 && i + k < cols) values[i * cols + i + k] = 1;
            using var d = Tensor.FromArray(values).Reshape(rows, cols);
            return [Constant(d.To(dtype))];
        });
        ops["DepthToSpace"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank != 4) throw c.Error($"the input must be [N, C, H, W], not {Errors.Shape(x.Shape)}");
            int b = c.Int("blocksize", 0), n = x.Shape[0], ch = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
            if (b < 1 || ch % (b * b) != 0) throw c.Error($"blocksize {b} does not divide the {ch} channels into b² parts");
            int co = ch / (b * b);
            var y = c.String("mode", "DCR") == "CRD"
                ? x.Reshape(n, co, b, b, h, w).Permute(0, 1, 4, 2, 5, 3)
                : x.Reshape(n, b, b, co, h, w).Permute(0, 3, 4, 1, 5, 2);
            return [y.Contiguous().Reshape(n, co, h * b, w * b)];
        });
        ops["SpaceToDepth"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank != 4) throw c.Error($"the input must be [N, C, H, W], not {Errors.Shape(x.Shape)}");
            int b = c.Int("blocksize", 0), n = x.Shape[0], ch = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
            if (b < 1 || h % b != 0 || w % b != 0) throw c.Error($"blocksize {b} does not divide {h}×{w}");
            var y = x.Reshape(n, ch, h / b, b, w / b, b).Permute(0, 3, 5, 1, 2, 4);
            return [y.Contiguous().Reshape(n, ch * b * b, h / b, w / b)];
        });
        ops["Trilu"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank < 2) throw c.Error($"the input must have at least 2 dims, not {Errors.Shape(x.Shape)}");
            long k = (long?)c.Scalar(1) ?? 0;
            bool upper = c.Int("upper", 1) != 0;
            int rows = x.Shape[^2], cols = x.Shape[^1];
            var keep = new bool[rows * cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) keep[i * cols + j] = upper ? j - i >= k : j - i <= k;
            using var mask = Tensor.FromArray(keep).Reshape(rows, cols);
            using var m = mask.To(x.Device);
            return [x.DType.IsFloating() ? Variable.Where(m, x, Zero(x)) : Constant(Tensor.Where(m, x.Data, Tensor.Zeros([], x.DType, x.Device)))];
        });
        ops["OneHot"] = new(c =>
        {
            var indices = c.RequiredLongs(0, "indices");
            double depthValue = c.Scalar(1) ?? throw c.Error("the depth input is missing");
            if (depthValue < 1 || depthValue > int.MaxValue) throw c.Error($"depth {depthValue} is not a size");
            int depth = (int)depthValue;
            var values = c.X(2);
            if (values.Data.Numel != 2) throw c.Error("values must hold [off, on]");
            var shape = c.X(0).Shape.ToArray();
            int axis = c.Axis(c.Long("axis", -1), shape.Length + 1);
            int outer = shape[..axis].Aggregate(1, (p, d) => p * d), inner = shape[axis..].Aggregate(1, (p, d) => p * d);
            if ((long)outer * depth * inner > MaxBuilt) throw c.NotSupported($"a one-hot output of {(long)outer * depth * inner} values (at most {MaxBuilt})");
            var hot = new bool[outer * depth * inner];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    long k = indices[o * inner + i];
                    if (k < 0) k += depth;
                    if (k >= 0 && k < depth) hot[(o * depth + k) * inner + i] = true;
                }
            using var mask = Tensor.FromArray(hot).Reshape([.. shape[..axis], depth, .. shape[axis..]]);
            var off = values.Data.Narrow(0, 0, 1).Reshape([]);
            var on = values.Data.Narrow(0, 1, 1).Reshape([]);
            return [Constant(Tensor.Where(mask.To(values.Device), on, off))];
        });
        ops["CumSum"] = new(CumSum);
        ops["NonZero"] = new(c =>
        {
            var x = c.X(0);
            using var nz = x.Data.Ne(0);
            var flags = nz.ToArray<bool>();
            var shape = x.Shape.ToArray();
            var hits = Enumerable.Range(0, flags.Length).Where(i => flags[i]).ToArray();
            var coords = new long[shape.Length * hits.Length];
            for (int k = 0; k < hits.Length; k++)
            {
                int rest = hits[k];
                for (int d = shape.Length - 1; d >= 0; d--)
                {
                    coords[d * hits.Length + k] = rest % shape[d];
                    rest /= shape[d];
                }
            }
            return [Constant(Tensor.FromArray(coords).Reshape(shape.Length, hits.Length))];
        });
        ops["Compress"] = new(c =>
        {
            var x = c.X(0);
            var cond = c.X(1).Data.To(DType.Int64).ToArray<long>();
            var flat = c.Has("axis") ? x : x.Reshape(-1);
            int axis = c.Has("axis") ? c.Axis(c.Long("axis", 0), x.Rank) : 0;
            if (cond.Length > flat.Shape[axis]) throw c.Error($"the condition has {cond.Length} values for an axis of {flat.Shape[axis]}");
            long[] keep = [.. Enumerable.Range(0, cond.Length).Where(i => cond[i] != 0).Select(i => (long)i)];
            return [Take(flat, axis, Tensor.FromArray(keep))];
        });
    }

    /// <summary>The most values an op builds on the host from attributes or scalars (Range, OneHot): 2²⁷.</summary>
    private const long MaxBuilt = 1 << 27;

    /// <summary>The longest axis CumSum runs along (its n×n triangle of doubles is 128 MiB at 4096).</summary>
    private const int MaxCumSum = 4096;

    private static Variable[] ConstantOp(OnnxCall c)
    {
        var n = c.Node;
        string what = $"{n.Source}: node {OnnxNode.Describe(n.Proto)}: value";
        if (n.TensorAttribute("value") is { } t) return [Constant(OnnxTensors.ToTensor(t, what))];
        if (n.Attribute("value_float") is { } f) return [Constant(Tensor.Scalar(f.F))];
        if (n.Attribute("value_floats") is { } fs) return [Constant(Tensor.FromArray(fs.Floats.ToArray()))];
        if (n.Attribute("value_int") is { } i) return [Constant(Tensor.Scalar(i.I, DType.Int64))];
        if (n.Attribute("value_ints") is { } ints) return [Constant(Tensor.FromArray(ints.Ints.ToArray()))];
        throw c.Error("no value attribute");
    }

    /// <summary>Values checked to be sizes (0 to 2³¹ − 1).</summary>
    private static int[] Sizes(OnnxCall c, long[] values, string what) =>
        [.. values.Select(v => v is >= 0 and <= int.MaxValue ? (int)v : throw c.Error($"{what} [{string.Join(", ", values)}] holds {v}, not a size"))];

    /// <summary>Indices along an axis of <paramref name="size"/>, negative ones counted from the end, all checked, as int64 on the device.</summary>
    private static Tensor Indices(OnnxCall c, Tensor index, int size)
    {
        if (!index.DType.IsInteger()) throw c.Error($"indices must be integers, not {index.DType.Name()}");
        var values = index.To(DType.Int64).ToArray<long>();
        for (int i = 0; i < values.Length; i++)
        {
            long v = values[i] < 0 ? values[i] + size : values[i];
            if (v < 0 || v >= size) throw c.Error($"index {values[i]} is out of range for an axis of {size}");
            values[i] = v;
        }
        using var t = Tensor.FromArray(values).Reshape([.. index.Shape]);
        return t.To(index.Device);
    }

    /// <summary>x's slices at <paramref name="index"/> (1-D, int64) along <paramref name="axis"/>; differentiable for floats.</summary>
    internal static Variable Take(Variable x, int axis, Tensor index)
    {
        using var i = index.To(x.Device);
        var copy = i.Clone();
        return x.DType.IsFloating() ? x.IndexSelect(axis, copy) : Constant(x.Data.IndexSelect(axis, copy));
    }

    private static Variable[] Reshape(OnnxCall c)
    {
        var x = c.X(0);
        long[] target = c.Opset >= 5 ? c.RequiredLongs(1, "shape") : c.Ints("shape") ?? throw c.Error("attribute 'shape' is required");
        bool allowZero = c.Int("allowzero", 0) != 0;
        if (target.Count(d => d == -1) > 1) throw c.Error($"shape [{string.Join(", ", target)}] has more than one -1");
        int[] shape = [.. target.Select((d, i) =>
            d == 0 && !allowZero ? i < x.Rank ? x.Shape[i] : throw c.Error($"shape [{string.Join(", ", target)}] copies dimension {i} (a 0) but the input {Errors.Shape(x.Shape)} has rank {x.Rank}")
            : d is >= -1 and <= int.MaxValue ? (int)d : throw c.Error($"shape [{string.Join(", ", target)}] holds {d}, not a size"))];
        if (shape.Contains(-1) && shape.Contains(0))
        {
            // -1 beside a 0 (allowzero): the -1 stands for 0 when the input is empty
            if (x.Data.Numel != 0) throw c.Error($"shape [{string.Join(", ", target)}] holds a 0 and a -1 for {Errors.Shape(x.Shape)}");
            shape = [.. shape.Select(d => d == -1 ? 0 : d)];
        }
        return [x.Reshape(shape)];
    }

    private static Variable[] Split(OnnxCall c)
    {
        var x = c.X(0);
        int axis = c.Axis(c.Long("axis", 0), x.Rank), size = x.Shape[axis];
        long[]? split = c.Opset >= 13 ? c.Longs(1) : c.Opset < 2 && c.In(1) is not null ? c.Longs(1) : c.Ints("split");
        int outputs = c.Node.OutputCount;
        if (split is null || split.Length == 0)
        {
            int parts = c.Opset >= 18 && c.Has("num_outputs") ? c.Int("num_outputs", outputs) : outputs;
            if (parts < 1) throw c.Error($"cannot split into {parts} parts");
            // equal parts; from opset 18 the last may be smaller
            int chunk = (size + parts - 1) / parts;
            if (c.Opset < 18 && size % parts != 0) throw c.Error($"axis {axis} of {Errors.Shape(x.Shape)} does not split into {parts} equal parts");
            split = [.. Enumerable.Range(0, parts).Select(k => (long)Math.Max(0, Math.Min(chunk, size - k * chunk)))];
        }
        if (split.Any(s => s < 0) || split.Sum() != size)
            throw c.Error($"split [{string.Join(", ", split)}] does not add up to axis {axis} of {Errors.Shape(x.Shape)}");
        var result = new Variable[split.Length];
        for (int k = 0, start = 0; k < split.Length; start += (int)split[k], k++)
            result[k] = x.Narrow(axis, start, (int)split[k]);
        return result;
    }

    private static Variable[] Slice(OnnxCall c)
    {
        var x = c.X(0);
        long[] starts, ends;
        long[]? axes, steps = null;
        if (c.Opset < 10)
        {
            starts = c.Ints("starts") ?? throw c.Error("attribute 'starts' is required");
            ends = c.Ints("ends") ?? throw c.Error("attribute 'ends' is required");
            axes = c.Ints("axes");
        }
        else
        {
            starts = c.RequiredLongs(1, "starts");
            ends = c.RequiredLongs(2, "ends");
            axes = c.Longs(3);
            steps = c.Longs(4);
        }
        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw c.Error($"starts, ends, axes and steps have {starts.Length}, {ends.Length}, {axes.Length} and {steps.Length} values; they must match");
        var y = x;
        var seen = new HashSet<int>();
        for (int k = 0; k < starts.Length; k++)
        {
            int axis = c.Axis(axes[k], x.Rank);
            if (!seen.Add(axis)) throw c.Error($"axis {axis} is sliced twice");
            long dim = x.Shape[axis], step = steps[k];
            if (step == 0) throw c.Error("a step of 0");
            long s = starts[k] < 0 ? starts[k] + dim : starts[k], e = ends[k] < 0 ? ends[k] + dim : ends[k];
            if (step > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                if (e < s) e = s;
                if (s == 0 && e == dim && step == 1) continue;
                y = y.Slice(axis, (int)s, (int)e, (int)Math.Min(step, int.MaxValue));
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                var index = new List<long>();
                for (long i = s; i > e; i += step) index.Add(i);
                y = Take(y, axis, Tensor.FromArray(index.ToArray()));
            }
        }
        return [y];
    }

    private static Variable[] GatherND(OnnxCall c)
    {
        var x = c.X(0);
        var idx = c.X(1).Data;
        int b = c.Int("batch_dims", 0);
        if (idx.Rank < 1) throw c.Error("indices must have at least one dim");
        int k = idx.Shape[^1];
        if (b < 0 || b >= idx.Rank || b + k > x.Rank) throw c.Error($"indices {Errors.Shape(idx.Shape)} with batch_dims {b} do not fit the data {Errors.Shape(x.Shape)}");
        var xs = x.Shape.ToArray();
        int batch = xs[..b].Aggregate(1, (p, d) => p * d), inner = xs[(b + k)..].Aggregate(1, (p, d) => p * d);
        int perBatch = xs[b..(b + k)].Aggregate(1, (p, d) => p * d);
        var rows = TupleRows(c, idx, xs, b, perBatch, batch);
        var flat = x.Reshape(batch * perBatch, inner);
        var picked = Take(flat, 0, Tensor.FromArray(rows));
        return [picked.Reshape([.. idx.Shape.ToArray()[..^1], .. xs[(b + k)..]])];
    }

    /// <summary>
    /// GatherND's and ScatterND's index tuples (the last dim of <paramref name="index"/>, k values each, naming dims
    /// <paramref name="batchDims"/> to + k of <paramref name="shape"/>) as rows of the data viewed [batch · rows per batch, rest]:
    /// negative indices count from the end, and each is checked.
    /// </summary>
    private static long[] TupleRows(OnnxCall c, Tensor index, int[] shape, int batchDims, int rowsPerBatch, int batches)
    {
        int k = index.Shape[^1];
        var values = index.To(DType.Int64).ToArray<long>();
        int tuples = values.Length / Math.Max(k, 1), perBatch = Math.Max(tuples / Math.Max(batches, 1), 1);
        var rows = new long[tuples];
        for (int t = 0; t < tuples; t++)
        {
            long offset = 0;
            for (int j = 0; j < k; j++)
            {
                long v = values[t * k + j], dim = shape[batchDims + j];
                if (v < 0) v += dim;
                if (v < 0 || v >= dim) throw c.Error($"index {values[t * k + j]} is out of range for an axis of {dim}");
                offset = offset * dim + v;
            }
            rows[t] = t / perBatch * rowsPerBatch + offset;
        }
        return rows;
    }

    private static Variable[] ScatterElements(OnnxCall c)
    {
        var x = c.X(0);
        var updates = c.X(2);
        int axis = c.Axis(c.Long("axis", 0), x.Rank);
        var index = Indices(c, c.X(1).Data, x.Shape[axis]);
        string reduction = c.String("reduction", "none");
        if (!index.Shape.SequenceEqual(updates.Shape)) throw c.Error($"indices {Errors.Shape(index.Shape)} and updates {Errors.Shape(updates.Shape)} differ in shape");
        return [Scatter(c, x, axis, index, updates, reduction)];
    }

    /// <summary>x with the updates written (or added, multiplied, max'd) at index along axis, as ScatterAdd and masks.</summary>
    private static Variable Scatter(OnnxCall c, Variable x, int axis, Tensor index, Variable updates, string reduction)
    {
        if (updates.DType != x.DType) throw c.Error($"updates are {updates.DType.Name()} but the data is {x.DType.Name()}");
        if (!x.DType.IsFloating())
        {
            using var xf = x.Data.To(DType.Float64);
            using var uf = updates.Data.To(DType.Float64);
            var r = Scatter(c, new Variable(xf), axis, index, new Variable(uf), reduction);
            return Constant(r.Data.To(x.DType));
        }
        var zeros = new Variable(Tensor.ZerosLike(x.Data));
        using var ones = Tensor.OnesLike(updates.Data);
        using var count = Tensor.ZerosLike(x.Data).ScatterAdd(axis, index, ones);
        using var hit = count.Gt(0);
        switch (reduction)
        {
            case "none":
                return Variable.Where(hit, zeros.ScatterAdd(axis, index, updates), x);
            case "add":
                return x + zeros.ScatterAdd(axis, index, updates);
            case "mul":
            {
                // products through logs would lose signs and zeros: done on values, no gradient
                var xs = x.Data.Contiguous().To(DType.Float64).ToArray<double>();
                ApplyAt(x.Shape.ToArray(), axis, index, updates.Data, (at, u) => xs[at] *= u);
                return Constant(Tensor.FromArray(xs).Reshape([.. x.Shape]).To(x.DType));
            }
            case "max" or "min":
            {
                var xs = x.Data.Contiguous().To(DType.Float64).ToArray<double>();
                bool max = reduction == "max";
                ApplyAt(x.Shape.ToArray(), axis, index, updates.Data, (at, u) => xs[at] = max ? Math.Max(xs[at], u) : Math.Min(xs[at], u));
                return Constant(Tensor.FromArray(xs).Reshape([.. x.Shape]).To(x.DType));
            }
            default: throw c.NotSupported($"reduction '{reduction}'");
        }
    }

    /// <summary>Calls <paramref name="apply"/> with the flat position in x and the update, for every update (element order).</summary>
    private static void ApplyAt(int[] shape, int axis, Tensor index, Tensor updates, Action<int, double> apply)
    {
        var idx = index.To(DType.Int64).ToArray<long>();
        var u = updates.Contiguous().To(DType.Float64).ToArray<double>();
        var ishape = index.Shape.ToArray();
        var coord = new int[ishape.Length];
        for (int i = 0; i < idx.Length; i++)
        {
            int rest = i;
            for (int d = ishape.Length - 1; d >= 0; d--) { coord[d] = rest % ishape[d]; rest /= ishape[d]; }
            coord[axis] = (int)idx[i];
            int at = 0;
            for (int d = 0; d < shape.Length; d++) at = at * shape[d] + coord[d];
            apply(at, u[i]);
        }
    }

    private static Variable[] ScatterND(OnnxCall c)
    {
        var x = c.X(0);
        var idx = c.X(1).Data;
        var updates = c.X(2);
        if (idx.Rank < 1) throw c.Error("indices must have at least one dim");
        int k = idx.Shape[^1];
        if (k > x.Rank) throw c.Error($"index tuples of {k} for data {Errors.Shape(x.Shape)}");
        var xs = x.Shape.ToArray();
        int inner = xs[k..].Aggregate(1, (p, d) => p * d), rowsTotal = xs[..k].Aggregate(1, (p, d) => p * d);
        var rows = TupleRows(c, idx, xs, 0, rowsTotal, 1);
        int tuples = rows.Length;
        var flat = x.Reshape(rowsTotal, inner);
        using var rowIndex = Tensor.FromArray(rows).Reshape(tuples, 1);
        var spread = rowIndex.Expand(tuples, inner).Contiguous().To(x.Device);
        var u = updates.Reshape(tuples, inner);
        return [Scatter(c, flat, 0, spread, u, c.String("reduction", "none")).Reshape(xs)];
    }

    private static Variable[] Pad(OnnxCall c)
    {
        var x = c.X(0);
        long[] pads;
        double value;
        long[]? axes = null;
        if (c.Opset >= 11)
        {
            pads = c.RequiredLongs(1, "pads");
            value = c.Scalar(2) ?? 0;
            axes = c.Opset >= 18 ? c.Longs(3) : null;
        }
        else
        {
            pads = (c.Opset < 2 ? c.Ints("paddings") : c.Ints("pads")) ?? throw c.Error("attribute 'pads' is required");
            value = c.Float("value", 0);
        }
        int[] dims = axes is null ? [.. Enumerable.Range(0, x.Rank)] : [.. axes.Select(a => c.Axis(a, x.Rank))];
        if (pads.Length != 2 * dims.Length) throw c.Error($"pads has {pads.Length} values; {2 * dims.Length} are needed for {dims.Length} axes");
        if (pads.Any(p => Math.Abs(p) > OnnxChecks.MaxExtent)) throw c.Error($"pads [{string.Join(", ", pads)}] exceed {OnnxChecks.MaxExtent}");
        string mode = c.String("mode", "constant");
        var y = x;
        for (int k = 0; k < dims.Length; k++)
        {
            int d = dims[k], before = (int)pads[k], after = (int)pads[k + dims.Length];
            if (before == 0 && after == 0) continue;
            int size = y.Shape[d];
            if (mode == "constant")
            {
                var amounts = new int[2 * y.Rank];
                // our Pad takes (before, after) pairs from the last dim
                amounts[2 * (y.Rank - 1 - d)] = before;
                amounts[2 * (y.Rank - 1 - d) + 1] = after;
                y = y.DType.IsFloating() ? y.Pad(amounts, value) : Constant(y.Data.Pad(amounts, value));
                continue;
            }
            if (size == 0) throw c.Error($"{mode} padding of an empty axis {d}");
            var index = new List<long>();
            for (long i = -before; i < size + after; i++)
            {
                long j = i;
                if (mode == "edge") j = Math.Clamp(i, 0, size - 1);
                else if (mode == "wrap") j = ((i % size) + size) % size;
                else
                {
                    long period = Math.Max(2L * (size - 1), 1);
                    j = ((i % period) + period) % period;
                    if (j >= size) j = period - j;
                }
                index.Add(j);
            }
            y = Take(y, d, Tensor.FromArray(index.ToArray()));
        }
        return [y];
    }

    private static Variable[] CumSum(OnnxCall c)
    {
        var x = c.X(0);
        int axis = c.Axis((long)(c.Scalar(1) ?? throw c.Error("the axis input is missing")), x.Rank);
        bool exclusive = c.Int("exclusive", 0) != 0, reverse = c.Int("reverse", 0) != 0;
        int n = x.Shape[axis];
        if (n > MaxCumSum) throw c.NotSupported($"CumSum along an axis of {n} (at most {MaxCumSum}: it is a product with an n×n triangle)");
        // y = x·U along the axis: U[i, j] = 1 when input i adds to output j
        var u = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                u[i * n + j] = (reverse ? i > j || (!exclusive && i == j) : i < j || (!exclusive && i == j)) ? 1 : 0;
        bool floating = x.DType.IsFloating();
        var xf = floating ? x : new Variable(x.Data.To(DType.Float64));
        using var ut = Tensor.FromArray(u).Reshape(n, n);
        var moved = xf.Transpose(axis, x.Rank - 1);
        var y = moved.MatMul(new Variable(ut.To(xf.DType).To(x.Device))).Transpose(axis, x.Rank - 1).Contiguous();
        return [floating ? y : Constant(y.Data.To(x.DType))];
    }

    private static Variable Cast(OnnxCall c, Variable x, DType to)
    {
        if (x.DType == to) return x;
        if (x.DType.IsFloating() && to.IsFloating()) return x.To(to);
        if (x.DType.IsFloating() && to.IsInteger())
        {
            // truncation toward zero, as C casts
            using var truncated = Tensor.Where(x.Data.Lt(0), x.Data.Ceil(), x.Data.Floor());
            return Constant(truncated.To(to));
        }
        return Constant(x.Data.To(to));
    }

    /// <summary>For a type attribute naming float16 (false) or bfloat16 (true): which; null for other types.</summary>
    private static bool? Sixteen(AttributeProto a) => OnnxTensors.TypeOf(a) switch
    {
        TensorProto.Types.DataType.Float16 => false,
        TensorProto.Types.DataType.Bfloat16 => true,
        _ => null,
    };

    /// <summary>x's values rounded to float16 (or bfloat16, to nearest even), as float32: x + (round(x) − x) with the difference constant.</summary>
    private static Variable RoundTo16(Variable x, bool brain)
    {
        using var f = x.Data.Contiguous().To(DType.Float32);
        var v = f.ToArray<float>();
        for (int i = 0; i < v.Length; i++)
        {
            if (!brain) { v[i] = (float)(Half)v[i]; continue; }
            if (float.IsNaN(v[i])) continue;
            int bits = BitConverter.SingleToInt32Bits(v[i]);
            bits += 0x7FFF + ((bits >> 16) & 1);
            v[i] = BitConverter.Int32BitsToSingle(bits & unchecked((int)0xFFFF0000));
        }
        using var rounded = Tensor.FromArray(v).Reshape([.. x.Shape]);
        var r = rounded.To(x.Device);
        return x.RequiresGrad ? x + Constant(r.Sub(x.Data)) : Constant(r);
    }

    private static DType DTypeOf(OnnxNode node, AttributeProto a) =>
        TryDType(a, out var t) is { } why ? throw node.NotSupported(why) : t;

    /// <summary>The engine dtype for an ONNX type attribute (an int from opset 6, a string before); the reason when there is none.</summary>
    private static string? TryDType(AttributeProto a, out DType dtype)
    {
        var type = OnnxTensors.TypeOf(a);
        dtype = OnnxTensors.EngineType(type) ?? DType.Float32;
        return OnnxTensors.EngineType(type) is null ? $"element type {type} (float, double, int32, int64 and bool are)" : null;
    }
}
