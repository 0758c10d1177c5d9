using Engine.Onnx.Proto;

namespace Engine.Onnx;

// Each ONNX op as autograd Variable calls: one case per op, its attributes read with the
// specification's defaults for opsets 7-17.
public sealed partial class OnnxModel
{
    /// <summary>Runs one node; <paramref name="folded"/> collects the BatchNormalizations already folded into their Conv during this call.</summary>
    private Variable[] Execute(NodeProto node, Func<int, Variable?> input, IReadOnlyDictionary<string, Variable> values, HashSet<NodeProto> folded)
    {
        Variable X(int i) => input(i) ?? throw new OnnxException($"{Source}: node {Describe(node)}: required input {i} is missing");
        var a = new Attributes(node, Source);
        switch (node.OpType)
        {
            case "Identity": return [X(0)];
            case "Constant":
                return [new Variable(TensorScope.Escape(OnnxTensors.ToTensor(a.Tensor("value"), $"{Source}: node {Describe(node)}: value")))];
            case "Relu": return [X(0).Relu()];
            case "LeakyRelu": return [X(0).LeakyRelu(a.Float("alpha", 0.01f))];
            case "Sigmoid": return [X(0).Sigmoid()];
            case "Tanh": return [X(0).Tanh()];
            case "Clip":
            {
                double? min, max;
                if (Opset < 11) { min = a.Has("min") ? a.Float("min", 0) : null; max = a.Has("max") ? a.Float("max", 0) : null; }
                else { min = ScalarOf(input(1)); max = ScalarOf(input(2)); }
                return [min is null && max is null ? X(0) : X(0).Clamp(min, max)];
            }
            case "Add": return [X(0) + X(1)];
            case "Sub": return [X(0) - X(1)];
            case "Mul": return [X(0) * X(1)];
            case "Div": return [X(0) / X(1)];
            case "MatMul": return [X(0).MatMul(X(1))];
            case "Gemm":
            {
                var y = X(0).MatMul(X(1), a.Int("transA", 0) != 0, a.Int("transB", 0) != 0);
                double alpha = a.Float("alpha", 1), beta = a.Float("beta", 1);
                if (alpha != 1) y *= alpha;
                var c = input(2);
                if (c is not null) y += beta == 1 ? c : c * beta;
                return [y];
            }
            case "Conv":
            {
                if (_convToBatchNorm.TryGetValue(node, out var bn) && !(IsTraining && !IsFrozen) && new Attributes(bn, Source).Int("spatial", 1) != 0)
                {
                    // inference: BatchNormalization folded into the convolution, y = conv(x, w·s) + (b − mean)·s + β with
                    // s = γ / √(var + ε) per output channel; written with Variables, so gradients still reach γ, β, w and b
                    var bnA = new Attributes(bn, Source);
                    Variable P(int i) => values.TryGetValue(bn.Input[i], out var v) ? v : throw new OnnxException($"{Source}: node {Describe(bn)}: input '{bn.Input[i]}' is missing");
                    var mean = _constants.GetValueOrDefault(bn.Input[3]) ?? P(3).Data;
                    var variance = _constants.GetValueOrDefault(bn.Input[4]) ?? P(4).Data;
                    var (w, b, gamma, beta) = (X(1), input(2), P(1), P(2));
                    double eps = bnA.Float("epsilon", 1e-5f);
                    Variable weight, shift;
                    if (GradMode.IsEnabled && (w.RequiresGrad || b is { RequiresGrad: true } || gamma.RequiresGrad || beta.RequiresGrad))
                        (weight, shift) = FoldBatchNorm(w, b, gamma, beta, mean, variance, eps);
                    else
                    {
                        // nothing needs a gradient: reuse the folded tensors while none of their sources changed
                        // (one lock for the cache: threads serving the same model find or fill it in turn)
                        Tensor?[] sources = [w.Data, b?.Data, gamma.Data, beta.Data, mean, variance];
                        FoldedConv? cached;
                        lock (_foldCache)
                        {
                            if (!_foldCache.TryGetValue(node, out cached) || !cached.Matches(sources))
                            {
                                using (GradMode.NoGrad())
                                {
                                    var (fw, fs) = FoldBatchNorm(w, b, gamma, beta, mean, variance, eps);
                                    cached?.Dispose();
                                    _foldCache[node] = cached = new FoldedConv(sources, TensorScope.Escape(fw.Data), TensorScope.Escape(fs.Data));
                                }
                            }
                        }
                        (weight, shift) = (new Variable(cached.Weight), new Variable(cached.Shift));
                    }
                    folded.Add(bn);
                    return [Conv(node, a, X(0), weight, shift)];
                }
                return [Conv(node, a, X(0), X(1), input(2))];
            }
            case "BatchNormalization":
            {
                if (folded.Contains(node)) return [X(0)];
                if (a.Int("spatial", 1) == 0)
                    throw new OnnxException($"{Source}: node {Describe(node)}: BatchNormalization with spatial=0 (per-activation statistics) is not supported");
                var mean = _constants.GetValueOrDefault(node.Input[3]) ?? X(3).Data;
                var variance = _constants.GetValueOrDefault(node.Input[4]) ?? X(4).Data;
                bool training = IsTraining && !IsFrozen;
                // ONNX: running = running·momentum + batch·(1 − momentum); ours (PyTorch's) weighs the batch by momentum
                double momentum = _batchNormMomentum ?? 1 - a.Float("momentum", 0.9f);
                return [Functional.BatchNorm(X(0), mean, variance, X(1), X(2), training, momentum, a.Float("epsilon", 1e-5f))];
            }
            case "MaxPool":
            {
                var x = X(0);
                var options = PoolOptions(node, a, x, countIncludePad: true);
                if (node.Output.Count < 2 || node.Output[1].Length == 0) return [x.MaxPool2d(options)];
                return [x.MaxPool2d(options), new Variable(MaxPoolIndices(x.Data, options, columnMajor: a.Int("storage_order", 0) != 0))];
            }
            case "AveragePool":
            {
                var x = X(0);
                var o = PoolOptions(node, a, x, countIncludePad: a.Int("count_include_pad", 0) != 0);
                if (_globalPools.Contains(node) && (x.Shape[2] != o.Kernel.H || x.Shape[3] != o.Kernel.W))
                    return [x.GlobalAvgPool2d()];
                return [x.AvgPool2d(o)];
            }
            case "GlobalAveragePool": return [X(0).GlobalAvgPool2d()];
            case "Flatten":
            {
                var x = X(0);
                int given = a.Int("axis", 1), axis = given < 0 ? given + x.Rank : given;
                if (axis < 0 || axis > x.Rank) throw new OnnxException($"{Source}: node {Describe(node)}: axis {given} is out of range for the input {Errors.Shape(x.Shape)}");
                int outer = 1;
                for (int d = 0; d < axis; d++) outer *= x.Shape[d];
                return [x.Reshape(outer, -1)];
            }
            case "Reshape":
            {
                var x = X(0);
                long[] target = Opset >= 5 ? Ints(node, input(1), "shape") : [.. a.Ints("shape")];
                bool allowZero = a.Int("allowzero", 0) != 0;
                int[] shape = [.. target.Select((d, i) =>
                    d == 0 && !allowZero ? i < x.Rank ? x.Shape[i] : throw new OnnxException($"{Source}: node {Describe(node)}: shape [{string.Join(", ", target)}] copies dimension {i} (a 0) but the input {Errors.Shape(x.Shape)} has rank {x.Rank}")
                    : d is >= -1 and <= int.MaxValue ? (int)d : throw new OnnxException($"{Source}: node {Describe(node)}: shape [{string.Join(", ", target)}] holds {d}, not a size"))];
                return [x.Reshape(shape)];
            }
            case "Transpose":
            {
                var x = X(0);
                int[] perm = a.Has("perm") ? [.. a.Ints("perm").Select(p => (int)p)] : [.. Enumerable.Range(0, x.Rank).Reverse()];
                return [x.Permute(perm)];
            }
            case "Concat":
            {
                var parts = Enumerable.Range(0, node.Input.Count).Select(i => input(i)).Where(v => v is not null).Select(v => v!).ToList();
                if (parts.Count == 0) throw new OnnxException($"{Source}: node {Describe(node)}: no inputs to concatenate");
                int axis = Axis(node, a.Int("axis", 0), parts[0].Rank, parts[0]);
                return [Variable.Concat(parts, axis)];
            }
            case "Softmax": return [SoftmaxLike(a, X(0), log: false)];
            case "LogSoftmax": return [SoftmaxLike(a, X(0), log: true)];
            case "Dropout":
            {
                var x = X(0);
                double ratio = Opset >= 12 ? (ScalarOf(input(1)) ?? 0.5) : a.Float("ratio", 0.5f);
                bool train = IsTraining && !IsFrozen && ratio > 0;
                var y = train ? Functional.Dropout(x, ratio, training: true) : x;
                if (node.Output.Count < 2 || node.Output[1].Length == 0) return [y];
                if (train) throw new OnnxException($"{Source}: node {Describe(node)}: the mask output of a training-mode Dropout is not supported");
                return [y, new Variable(TensorScope.Escape(Tensor.Full([.. x.Shape], 1, DType.Bool, x.Device)))];
            }
            default:
                throw new OnnxException($"{Source}: node {Describe(node)}: op {node.OpType} is not supported");
        }
    }

    /// <summary><paramref name="axis"/> counted from the end when negative, checked to lie in 0 to <paramref name="count"/> − 1.</summary>
    private int Axis(NodeProto node, int axis, int count, Variable x)
    {
        int a = axis < 0 ? axis + count : axis;
        return a >= 0 && a < count ? a
            : throw new OnnxException($"{Source}: node {Describe(node)}: axis {axis} is out of range for the input {Errors.Shape(x.Shape)}");
    }

    private static double? ScalarOf(Variable? v) => v is null ? null : v.Data.To(DType.Float64).ToArray<double>()[0];

    private long[] Ints(NodeProto node, Variable? v, string what) =>
        v is null ? throw new OnnxException($"{Source}: node {Describe(node)}: the {what} input is missing")
                  : v.Data.To(DType.Int64).ToArray<long>();

    private Variable SoftmaxLike(Attributes a, Variable x, bool log)
    {
        if (Opset >= 13)
        {
            int axis = Axis(a.Node, a.Int("axis", -1), x.Rank, x);
            return log ? x.LogSoftmax(axis) : x.Softmax(axis);
        }
        // before opset 13 the input is coerced to 2-D at axis (default 1) and normalised over the second dim
        int k = Axis(a.Node, a.Int("axis", 1), x.Rank, x);
        int outer = 1;
        for (int d = 0; d < k; d++) outer *= x.Shape[d];
        var flat = x.Reshape(outer, -1);
        var y = log ? flat.LogSoftmax(1) : flat.Softmax(1);
        return y.Reshape([.. x.Shape]);
    }

    /// <summary>Explicit pads [top, left, bottom, right], or auto_pad computed from the input's size.</summary>
    private Padding2d Pads(NodeProto node, Attributes a, Variable x, int kh, int kw, Size2d stride, Size2d dilation)
    {
        string auto = a.String("auto_pad", "NOTSET");
        if (auto is "NOTSET" or "")
        {
            var p = a.Has("pads") ? a.Ints("pads") : [0, 0, 0, 0];
            if (p.Count != 4) throw new OnnxException($"{Source}: node {Describe(node)}: pads must have 4 values for a 2-D op, not {p.Count}");
            return new Padding2d((int)p[0], (int)p[1], (int)p[2], (int)p[3]);
        }
        if (auto == "VALID") return new Padding2d(0, 0, 0, 0);
        (int, int) Same(int size, int k, int s, int d)
        {
            long outSize = ((long)size + s - 1) / s;
            long total = Math.Max((outSize - 1) * s + (long)(k - 1) * d + 1 - size, 0);
            if (total > int.MaxValue)
                throw new OnnxException($"{Source}: node {Describe(node)}: auto_pad {auto} needs {total} pixels of padding for the input {Errors.Shape(x.Shape)}");
            int small = (int)(total / 2), large = (int)total - small;
            return auto == "SAME_LOWER" ? (large, small) : (small, large);
        }
        var (top, bottom) = Same(x.Shape[2], kh, stride.H, dilation.H);
        var (left, right) = Same(x.Shape[3], kw, stride.W, dilation.W);
        return new Padding2d(top, left, bottom, right);
    }

    /// <summary>
    /// A convolution's weights and bias with the following BatchNormalization folded in:
    /// w' = w·s and b' = (b − mean)·s + β, with s = γ / √(var + ε) per output channel.
    /// </summary>
    private static (Variable Weight, Variable Shift) FoldBatchNorm(Variable w, Variable? b, Variable gamma, Variable beta, Tensor mean, Tensor variance, double eps)
    {
        var s = gamma / new Variable((variance + eps).Sqrt());
        var folded = w * s.Reshape(w.Shape[0], 1, 1, 1);
        var shift = b is null ? beta - new Variable(mean) * s : (b - new Variable(mean)) * s + beta;
        return (folded, shift);
    }

    /// <summary>Folded weights kept between calls, with the identity and version of every tensor they came from.</summary>
    private sealed class FoldedConv(Tensor?[] sources, Tensor weight, Tensor shift) : IDisposable
    {
        private readonly int[] _versions = [.. sources.Select(t => t?.Version ?? 0)];

        public Tensor Weight { get; } = weight;
        public Tensor Shift { get; } = shift;

        /// <summary>True when <paramref name="now"/> are the same tensors as before, none written since.</summary>
        public bool Matches(Tensor?[] now)
        {
            for (int i = 0; i < now.Length; i++)
                if (!ReferenceEquals(now[i], sources[i]) || (now[i]?.Version ?? 0) != _versions[i]) return false;
            return true;
        }

        public void Dispose()
        {
            Weight.Dispose();
            Shift.Dispose();
        }
    }

    private Variable Conv(NodeProto node, Attributes a, Variable x, Variable w, Variable? b)
    {
        if (x.Rank != 4 || w.Rank != 4)
            throw new OnnxException($"{Source}: node {Describe(node)}: only 2-D convolution is supported (input {Errors.Shape(x.Shape)}, weights {Errors.Shape(w.Shape)})");
        int group = a.Int("group", 1);
        if (x.Shape[1] != w.Shape[1] * group)
            throw new OnnxException($"{Source}: node {Describe(node)}: the input {Errors.Shape(x.Shape)} has {x.Shape[1]} channels but the weights {Errors.Shape(w.Shape)} with group {group} take {w.Shape[1] * group}");
        var s = a.Ints2("strides", 1);
        var d = a.Ints2("dilations", 1);
        var options = new Conv2dOptions { Stride = s, Dilation = d, Groups = group, Padding = Pads(node, a, x, w.Shape[2], w.Shape[3], s, d) };
        return x.Conv2d(w, b, options);
    }

    /// <summary>
    /// MaxPool's optional Indices output: each maximum's position flattened over the whole NCHW input,
    /// (n·C + c)·H·W + h·W + w, or with storage_order 1 (column-major planes) (n·C + c)·H·W + w·H + h.
    /// </summary>
    private static Tensor MaxPoolIndices(Tensor x, Pool2dOptions options, bool columnMajor)
    {
        var (values, inPlane) = x.MaxPool2dWithIndices(options);
        values.Dispose();
        int[] shape = [.. inPlane.Shape];
        using var cpu = inPlane.To(Device.Cpu);
        inPlane.Dispose();
        long[] at = cpu.ToArray<long>();
        long h = x.Shape[2], w = x.Shape[3], plane = (long)shape[2] * shape[3];
        for (int i = 0; i < at.Length; i++)
            at[i] = i / plane * h * w + (columnMajor ? at[i] % w * h + at[i] / w : at[i]);
        using var flat = Tensor.FromArray(at, shape);
        return flat.To(x.Device);
    }

    private Pool2dOptions PoolOptions(NodeProto node, Attributes a, Variable x, bool countIncludePad)
    {
        if (x.Rank != 4) throw new OnnxException($"{Source}: node {Describe(node)}: only 2-D pooling is supported (input {Errors.Shape(x.Shape)})");
        var k = a.Ints("kernel_shape");
        if (k.Count != 2) throw new OnnxException($"{Source}: node {Describe(node)}: kernel_shape must have 2 values, not {k.Count}");
        var s = a.Ints2("strides", 1);
        var d = a.Ints2("dilations", 1);
        return new Pool2dOptions(new Size2d((int)k[0], (int)k[1]))
        {
            Stride = s, Dilation = d, CeilMode = a.Int("ceil_mode", 0) != 0, CountIncludePad = countIncludePad,
            Padding = Pads(node, a, x, (int)k[0], (int)k[1], s, d),
        };
    }

    /// <summary>A node's attributes by name, with defaults.</summary>
    private sealed class Attributes(NodeProto node, string source)
    {
        private readonly Dictionary<string, AttributeProto> _map = node.Attribute.DistinctBy(x => x.Name).ToDictionary(x => x.Name);

        public NodeProto Node => node;
        public bool Has(string name) => _map.ContainsKey(name);
        public int Int(string name, int fallback) => !_map.TryGetValue(name, out var x) ? fallback
            : x.I is >= int.MinValue and <= int.MaxValue ? (int)x.I
            : throw new OnnxException($"{source}: node {Describe(node)}: attribute '{name}' = {x.I} is beyond 32 bits");
        public double Float(string name, float fallback) => _map.TryGetValue(name, out var x) ? x.F : fallback;
        public string String(string name, string fallback) => _map.TryGetValue(name, out var x) ? x.S.ToStringUtf8() : fallback;
        public IReadOnlyList<long> Ints(string name) => _map.TryGetValue(name, out var x)
            ? x.Ints
            : throw new OnnxException($"{source}: node {Describe(node)}: attribute '{name}' is required");
        public Size2d Ints2(string name, int fallback)
        {
            if (!_map.TryGetValue(name, out var x)) return new Size2d(fallback, fallback);
            if (x.Ints.Count != 2) throw new OnnxException($"{source}: node {Describe(node)}: {name} must have 2 values, not {x.Ints.Count}");
            return new Size2d((int)x.Ints[0], (int)x.Ints[1]);
        }
        public TensorProto Tensor(string name) => _map.TryGetValue(name, out var x) && x.T is not null
            ? x.T
            : throw new OnnxException($"{source}: node {Describe(node)}: attribute '{name}' (a tensor) is required");
    }
}
