using Engine.Onnx.Proto;

namespace Engine.Onnx;

/// <summary>
/// What load-time inference knows of a value: its element type, its dims (null where the input decides: the
/// batch, a sequence length) and, for small integer values (shapes, axes), their elements (null where unknown).
/// </summary>
internal sealed record Known(DType? Type, int?[]? Dims, long?[]? Values)
{
    public static readonly Known Nothing = new(null, null, null);

    /// <summary>The most elements whose values are followed.</summary>
    public const int MaxValues = 64;

    public bool Complete => Type is { } t && !t.IsFloating() && Dims is not null && Dims.All(d => d is not null)
        && Values is not null && Values.All(v => v is not null) && Values.Length == Dims.Aggregate(1L, (p, d) => p * d!.Value);
}

/// <summary>
/// Shape and value inference over a graph, at load: the dims the weights fix (hidden sizes, channels, heads)
/// are followed through the ops exporters use around shapes, while a graph input's dims stay unknown (only its
/// declared rank is trusted), so the batch and the sequence length stay free. A node whose integer outputs are
/// then fully known (PyTorch's Shape → Gather → Unsqueeze → Concat of static dims) is computed once at load.
/// An op without a rule here makes its outputs unknown: inference never guesses.
/// </summary>
internal static class OnnxShapes
{
    private static readonly HashSet<string> s_sameShape =
    [
        "Identity", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Erf", "Reciprocal", "Sign", "Floor", "Ceil",
        "Round", "LeakyRelu", "Elu", "Selu", "Celu", "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Mish", "Gelu",
        "Softmax", "LogSoftmax", "Hardmax", "Dropout", "LayerNormalization", "BatchNormalization", "InstanceNormalization",
        "LRN", "Clip", "Sin", "Cos", "Tan", "Sinh", "Cosh", "Asin", "Acos", "Atan", "Asinh", "Acosh", "Atanh", "IsNaN", "IsInf",
        "Not", "Cast", "CastLike", "ThresholdedRelu", "Shrink", "MeanVarianceNormalization", "CumSum", "Trilu",
    ];

    private static readonly HashSet<string> s_broadcast =
    [
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor",
        "Where", "Max", "Min", "Sum", "Mean", "PRelu",
    ];

    private static readonly HashSet<string> s_boolResult = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Not", "IsNaN", "IsInf"];

    public static Known Of(Tensor t) => new(t.DType, [.. t.Shape.ToArray().Select(d => (int?)d)],
        !t.DType.IsFloating() && t.Numel <= Known.MaxValues ? [.. t.To(DType.Int64).Reshape(-1).ToArray<long>().Select(v => (long?)v)] : null);

    /// <summary>The outputs of <paramref name="node"/> given what is known of its inputs (Nothing where there is no rule).</summary>
    public static Known[] Infer(OnnxNode node, Known[] inputs)
    {
        try
        {
            return InferCore(node, inputs);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or OverflowException or OnnxException)
        {
            // a rule that meets a form it does not expect knows nothing; the op itself reports real errors at run time
            return [.. Enumerable.Repeat(Known.Nothing, node.OutputCount)];
        }
    }

    private static Known[] InferCore(OnnxNode node, Known[] x)
    {
        Known In(int i) => i < x.Length ? x[i] : Known.Nothing;
        Known[] One(Known k) => [k, .. Enumerable.Repeat(Known.Nothing, Math.Max(node.OutputCount - 1, 0))];
        string op = node.OpType;
        if (node.Proto.Domain is not ("" or "ai.onnx")) return One(Known.Nothing);
        if (s_sameShape.Contains(op))
        {
            var a = In(0);
            DType? type = op switch
            {
                _ when s_boolResult.Contains(op) => DType.Bool,
                "Cast" => node.Attribute("to") is { } to && TypeOf(to) is { } t ? t : null,
                "CastLike" => In(1).Type,
                _ => a.Type,
            };
            long?[]? values = op switch
            {
                "Identity" => a.Values,
                "Cast" when type is DType.Int64 or DType.Int32 && a.Type is DType.Int64 or DType.Int32 => a.Values,
                "Neg" when a.Type is { } t && !t.IsFloating() => a.Values?.Select(v => -v).ToArray(),
                "Abs" when a.Type is { } t && !t.IsFloating() => a.Values?.Select(v => v is { } q ? Math.Abs(q) : (long?)null).ToArray(),
                _ => null,
            };
            return One(new Known(type, a.Dims, values));
        }
        if (s_broadcast.Contains(op))
        {
            var present = x.Where(k => k is not null).ToArray();
            int?[]? dims = present.Aggregate((int?[]?)[], (acc, k) => acc is null || k.Dims is null ? null : Broadcast(acc, k.Dims));
            DType? type = s_boolResult.Contains(op) ? DType.Bool : op == "Where" ? In(1).Type : In(0).Type;
            long?[]? values = null;
            if (type is { } t && !t.IsFloating() && dims is not null && dims.All(d => d is not null) && dims.Aggregate(1L, (p, d) => p * d!.Value) <= Known.MaxValues
                && present.All(k => k.Values is not null && k.Dims is not null))
                values = Elementwise(op, present, dims);
            return One(new Known(type, dims, values));
        }
        switch (op)
        {
            case "Shape":
            {
                var d = In(0).Dims;
                if (d is null) return One(new Known(DType.Int64, null, null));
                int rank = d.Length;
                int Clamp(long v) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
                int start = node.Opset >= 15 ? Clamp(node.Long("start", 0)) : 0, end = node.Opset >= 15 && node.Has("end") ? Clamp(node.Long("end", rank)) : rank;
                var picked = d[start..Math.Max(start, end)];
                return One(new Known(DType.Int64, [picked.Length], [.. picked.Select(v => (long?)v)]));
            }
            case "Size":
            {
                var d = In(0).Dims;
                long? size = d is not null && d.All(v => v is not null) ? d.Aggregate(1L, (p, v) => p * v!.Value) : null;
                return One(new Known(DType.Int64, [], [size]));
            }
            case "MatMul":
            {
                var (a, b) = (In(0).Dims, In(1).Dims);
                if (a is null || b is null || a.Length < 2 || b.Length < 2) return One(new Known(In(0).Type, null, null));
                var batch = Broadcast(a[..^2], b[..^2]);
                return One(new Known(In(0).Type, batch is null ? null : [.. batch, a[^2], b[^1]], null));
            }
            case "Gemm":
            {
                var (a, b) = (In(0).Dims, In(1).Dims);
                if (a is not { Length: 2 } || b is not { Length: 2 }) return One(new Known(In(0).Type, null, null));
                return One(new Known(In(0).Type, [node.Int("transA", 0) != 0 ? a[1] : a[0], node.Int("transB", 0) != 0 ? b[0] : b[1]], null));
            }
            case "Transpose":
            {
                var d = In(0).Dims;
                if (d is null) return One(new Known(In(0).Type, null, null));
                long[] perm = node.Ints("perm") ?? [.. Enumerable.Range(0, d.Length).Reverse().Select(i => (long)i)];
                if (perm.Length != d.Length) return One(Known.Nothing);
                return One(new Known(In(0).Type, [.. perm.Select(p => d[p < 0 ? p + d.Length : p])], null));
            }
            case "Reshape":
            {
                var a = In(0);
                var target = node.Opset >= 5 ? In(1).Values : node.Ints("shape")?.Select(v => (long?)v).ToArray();
                if (target is null) return One(new Known(a.Type, null, null));
                bool allowZero = node.Int("allowzero", 0) != 0;
                var dims = new int?[target.Length];
                int inferred = -1;
                for (int i = 0; i < target.Length; i++)
                {
                    var t = target[i];
                    if (t == 0 && !allowZero) dims[i] = a.Dims is not null && i < a.Dims.Length ? a.Dims[i] : null;
                    else if (t == -1) { inferred = i; dims[i] = null; }
                    else dims[i] = t is >= 0 and <= int.MaxValue ? (int)t : null;
                }
                if (inferred >= 0 && a.Dims is not null && a.Dims.All(v => v is not null) && dims.Where((_, i) => i != inferred).All(v => v is > 0))
                {
                    long total = a.Dims.Aggregate(1L, (p, v) => p * v!.Value), rest = dims.Where((_, i) => i != inferred).Aggregate(1L, (p, v) => p * v!.Value);
                    if (total % rest == 0 && total / rest <= int.MaxValue) dims[inferred] = (int)(total / rest);
                }
                return One(new Known(a.Type, dims, a.Values));
            }
            case "Flatten":
            {
                var d = In(0).Dims;
                if (d is null) return One(new Known(In(0).Type, null, null));
                int axis = node.Int("axis", 1);
                if (axis < 0) axis += d.Length;
                if (axis < 0 || axis > d.Length) return One(Known.Nothing);
                return One(new Known(In(0).Type, [Product(d[..axis]), Product(d[axis..])], In(0).Values));
            }
            case "Unsqueeze":
            case "Squeeze":
            {
                var a = In(0);
                long[]? axes = node.Opset >= 13 ? Complete(In(1).Values) : node.Ints("axes");
                if (a.Dims is null || axes is null) return One(new Known(a.Type, null, null));
                if (op == "Unsqueeze")
                {
                    int rank = a.Dims.Length + axes.Length;
                    var at = axes.Select(v => (int)(v < 0 ? v + rank : v)).ToHashSet();
                    var dims = new int?[rank];
                    for (int d = 0, k = 0; d < rank; d++) dims[d] = at.Contains(d) ? 1 : a.Dims[k++];
                    return One(new Known(a.Type, dims, a.Values));
                }
                var drop = axes.Select(v => (int)(v < 0 ? v + a.Dims.Length : v)).ToHashSet();
                return One(new Known(a.Type, [.. a.Dims.Where((_, i) => !drop.Contains(i))], a.Values));
            }
            case "Concat":
            {
                var parts = x.Where(k => k is not null).ToArray();
                if (parts.Length == 0 || parts.Any(p => p.Dims is null)) return One(new Known(parts.FirstOrDefault()?.Type, null, null));
                int rank = parts[0].Dims!.Length;
                if (parts.Any(p => p.Dims!.Length != rank)) return One(Known.Nothing);
                long axisAttr = node.Long("axis", node.Opset < 4 ? 1 : 0);
                int axis = (int)(axisAttr < 0 ? axisAttr + rank : axisAttr);
                var dims = (int?[])parts[0].Dims!.Clone();
                int? total = 0;
                foreach (var p in parts) total = total is null || p.Dims![axis] is null ? null : total + p.Dims![axis];
                dims[axis] = total;
                long?[]? values = rank == 1 && parts.All(p => p.Values is not null) ? [.. parts.SelectMany(p => p.Values!)] : null;
                return One(new Known(parts[0].Type, dims, values));
            }
            case "Gather":
            {
                var (data, index) = (In(0), In(1));
                if (data.Dims is null || index.Dims is null) return One(new Known(data.Type, null, null));
                long axisAttr = node.Long("axis", 0);
                int axis = (int)(axisAttr < 0 ? axisAttr + data.Dims.Length : axisAttr);
                int?[] dims = [.. data.Dims[..axis], .. index.Dims, .. data.Dims[(axis + 1)..]];
                long?[]? values = null;
                if (data.Dims.Length == 1 && data.Values is not null && index.Values is not null)
                    values = [.. index.Values.Select(i => i is { } k && (k < 0 ? k + data.Values.Length : k) is var at && at >= 0 && at < data.Values.Length ? data.Values[at] : null)];
                return One(new Known(data.Type, dims, values));
            }
            case "Slice" when node.Opset >= 10:
            {
                var data = In(0);
                var (starts, ends, axes, steps) = (Complete(In(1).Values), Complete(In(2).Values), node.InputCount > 3 ? Complete(In(3).Values) : null, node.InputCount > 4 ? Complete(In(4).Values) : null);
                if (data.Dims is null || starts is null || ends is null || (node.InputCount > 3 && node.Proto.Input[3].Length > 0 && axes is null)
                    || (node.InputCount > 4 && node.Proto.Input[4].Length > 0 && steps is null) || starts.Length != ends.Length)
                    return One(new Known(data.Type, null, null));
                axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
                steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
                var dims = (int?[])data.Dims.Clone();
                long?[]? values = data.Dims.Length == 1 ? data.Values : null;
                for (int k = 0; k < starts.Length; k++)
                {
                    int axis = (int)(axes[k] < 0 ? axes[k] + dims.Length : axes[k]);
                    if (dims[axis] is not { } size || steps[k] == 0) { dims[axis] = null; values = null; continue; }
                    var picked = SliceIndices(size, starts[k], ends[k], steps[k]);
                    dims[axis] = picked.Count;
                    values = values is null ? null : [.. picked.Select(i => values[i])];
                }
                return One(new Known(data.Type, dims, values));
            }
            case "Expand":
            {
                var target = In(1).Values;
                if (In(0).Dims is null || target is null) return One(new Known(In(0).Type, null, null));
                return One(new Known(In(0).Type, Broadcast(In(0).Dims!, [.. target.Select(v => v is >= 0 and <= int.MaxValue ? (int?)v : null)]), null));
            }
            case "ConstantOfShape":
            {
                var target = In(0).Values;
                DType type = node.TensorAttribute("value") is { } v ? TypeOf(v.DataType) ?? DType.Float32 : DType.Float32;
                return One(new Known(type, target?.Select(d => d is >= 0 and <= int.MaxValue ? (int?)d : null).ToArray(), null));
            }
            case "Conv":
            {
                var (a, w) = (In(0).Dims, In(1).Dims);
                if (a is null || w is null || a.Length != w.Length) return One(new Known(In(0).Type, null, null));
                return One(new Known(In(0).Type, [a[0], w[0], .. Enumerable.Repeat((int?)null, a.Length - 2)], null));
            }
            default:
                return [.. Enumerable.Repeat(Known.Nothing, node.OutputCount)];
        }
    }

    private static long[]? Complete(long?[]? values) => values is not null && values.All(v => v is not null) ? [.. values.Select(v => v!.Value)] : null;

    private static int? Product(int?[] dims) => dims.All(d => d is not null) && dims.Aggregate(1L, (p, d) => p * d!.Value) is var p && p <= int.MaxValue ? (int)p : null;

    /// <summary>numpy broadcasting where dims may be unknown: a known dim above 1 wins over an unknown one; two unknowns stay unknown.</summary>
    private static int?[]? Broadcast(int?[] a, int?[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int?[rank];
        for (int i = 0; i < rank; i++)
        {
            int? x = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int? y = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (x == 1) r[i] = y;
            else if (y == 1) r[i] = x;
            else if (x is not null && y is not null) r[i] = x == y ? x : throw new InvalidOperationException("no broadcast");
            // one unknown: it is 1 or equal to the known one, so the result is the known one
            else r[i] = x ?? y;
        }
        return r;
    }

    /// <summary>The integer elementwise ops on known values (an unknown element stays unknown).</summary>
    private static long?[]? Elementwise(string op, Known[] inputs, int?[] dims)
    {
        int count = (int)dims.Aggregate(1L, (p, d) => p * d!.Value);
        long? At(Known k, int i)
        {
            // broadcasting small vectors: a scalar or one element repeats, the same length lines up
            if (k.Values!.Length == 1) return k.Values[0];
            if (k.Values.Length == count) return k.Values[i];
            throw new InvalidOperationException("values too complex to broadcast here");
        }
        var r = new long?[count];
        for (int i = 0; i < count; i++)
        {
            long? a = At(inputs[0], i), b = inputs.Length > 1 ? At(inputs[1], i) : null;
            r[i] = op switch
            {
                "Add" => a + b,
                "Sub" => a - b,
                "Mul" => a * b,
                "Div" => b is 0 or null ? null : a / b,
                "Max" => a is null || b is null ? null : Math.Max(a.Value, b.Value),
                "Min" => a is null || b is null ? null : Math.Min(a.Value, b.Value),
                "Equal" => a is null || b is null ? null : a == b ? 1 : 0,
                "Less" => a is null || b is null ? null : a < b ? 1 : 0,
                "Greater" => a is null || b is null ? null : a > b ? 1 : 0,
                "Where" => a is null ? null : a != 0 ? b : At(inputs[2], i),
                _ => null,
            };
        }
        return r;
    }

    private static List<long> SliceIndices(long dim, long start, long end, long step)
    {
        long s = start < 0 ? start + dim : start, e = end < 0 ? end + dim : end;
        var r = new List<long>();
        if (step > 0)
        {
            s = Math.Clamp(s, 0, dim);
            e = Math.Clamp(e, 0, dim);
            for (long i = s; i < e; i += step) r.Add(i);
        }
        else
        {
            s = Math.Clamp(s, 0, dim - 1);
            e = Math.Clamp(e, -1, dim - 1);
            for (long i = s; i > e; i += step) r.Add(i);
        }
        return r;
    }

    private static DType? TypeOf(AttributeProto a) => OnnxTensors.EngineType(OnnxTensors.TypeOf(a));

    private static DType? TypeOf(int type) => OnnxTensors.EngineType((TensorProto.Types.DataType)type);

    /// <summary>A graph input as declared: its type and rank (dims unknown: the caller's tensors decide them).</summary>
    public static Known Declared(ValueInfoProto v) =>
        v.Type?.TensorType is { } t
            ? new Known(TypeOf(t.ElemType), t.Shape is { } s ? [.. s.Dim.Select(_ => (int?)null)] : null, null)
            : Known.Nothing;
}
