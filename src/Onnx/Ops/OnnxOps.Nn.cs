namespace Engine.Onnx;

// Network layers: matrix products, convolutions (1-D as 2-D with H = 1), pooling, normalizations,
// softmax, dropout and losses. All float paths are Variables, so they train.
internal static partial class OnnxOps
{
    private static void RegisterNn(Dictionary<string, OpDef> ops)
    {
        ops["MatMul"] = new(c =>
        {
            var (a, b) = (c.X(0), c.X(1));
            if (a.DType.IsFloating()) return [a.MatMul(b)];
            using var af = a.Data.To(DType.Float64);
            using var bf = b.Data.To(DType.Float64);
            using var p = af.MatMul(bf);
            return [Constant(p.To(a.DType))];
        });
        ops["Gemm"] = new(c =>
        {
            var y = c.X(0).MatMul(c.X(1), c.Int("transA", 0) != 0, c.Int("transB", 0) != 0);
            double alpha = c.Float("alpha", 1), beta = c.Float("beta", 1);
            if (alpha != 1) y *= alpha;
            var bias = c.In(2);
            if (bias is not null && beta != 0) y += beta == 1 ? bias : bias * beta;
            return [y];
        });
        ops["Einsum"] = new(c => [Einsum(c, c.String("equation", ""), [.. c.All])]);
        ops["Conv"] = new(c => [Conv(c, c.X(0), c.X(1), c.In(2))], Refuse: RefuseSpatial);
        ops["ConvTranspose"] = new(ConvTranspose, Refuse: RefuseSpatial);
        ops["MaxPool"] = new(MaxPool, Refuse: RefuseSpatial);
        ops["AveragePool"] = new(AveragePool, Refuse: n =>
            RefuseSpatial(n) ?? (n.Ints("dilations") is { } d && d.Any(v => v != 1) ? "AveragePool with dilations" : null));
        ops["GlobalAveragePool"] = new(c => [GlobalPool(c, c.X(0), max: false)]);
        ops["GlobalMaxPool"] = new(c => [GlobalPool(c, c.X(0), max: true)]);
        ops["BatchNormalization"] = new(BatchNormalization,
            Refuse: n => n.Opset < 9 && n.Int("spatial", 1) == 0 ? "BatchNormalization with spatial=0 (per-activation statistics)" : null);
        ops["InstanceNormalization"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank < 3) throw c.Error($"the input must be [N, C, …] with spatial dims, not {Errors.Shape(x.Shape)}");
            var y = Standardize(x, 2, c.Float("epsilon", 1e-5f));
            var channel = Enumerable.Repeat(1, x.Rank).ToArray();
            channel[1] = x.Shape[1];
            return [y * c.X(1).Reshape(channel) + c.X(2).Reshape(channel)];
        });
        ops["LayerNormalization"] = new(LayerNormalization);
        ops["MeanVarianceNormalization"] = new(c =>
        {
            var x = c.X(0);
            int[] axes = [.. (c.Ints("axes") ?? [0, 2, 3]).Select(a => c.Axis(a, x.Rank))];
            // ONNX's function body: (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9)
            var mean = x.Mean(axes, keepDim: true);
            var variance = (x * x).Mean(axes, keepDim: true) - mean * mean;
            return [(x - mean) / (variance.Sqrt() + 1e-9)];
        });
        ops["LRN"] = new(c =>
        {
            var x = c.X(0);
            int size = c.Int("size", 0);
            if (size < 1) throw c.Error($"size {size} must be at least 1");
            if (x.Rank < 3) throw c.Error($"the input must be [N, C, …], not {Errors.Shape(x.Shape)}");
            double alpha = c.Float("alpha", 1e-4f), beta = c.Float("beta", 0.75f), bias = c.Float("bias", 1f);
            int before = (size - 1) / 2, after = size - 1 - before, channels = x.Shape[1];
            var pads = new int[2 * x.Rank];
            pads[2 * (x.Rank - 2)] = before;
            pads[2 * (x.Rank - 2) + 1] = after;
            var squares = (x * x).Pad(pads);
            Variable? sum = null;
            for (int k = 0; k < size; k++)
            {
                var part = squares.Narrow(1, k, channels);
                sum = sum is null ? part : sum + part;
            }
            return [x / (sum! * (alpha / size) + bias).Pow(beta)];
        });
        ops["Softmax"] = new(c => [SoftmaxLike(c, c.X(0), log: false)]);
        ops["LogSoftmax"] = new(c => [SoftmaxLike(c, c.X(0), log: true)]);
        ops["Hardmax"] = new(c =>
        {
            var x = c.X(0);
            var (flat, axis) = c.Opset >= 13 ? (x.Data, c.Axis(c.Long("axis", -1), x.Rank)) : (x.Data.Reshape(Outer(x, c.Axis(c.Long("axis", 1), x.Rank)), -1), 1);
            using var arg = flat.ArgMax(axis, keepDim: true);
            var hot = Tensor.ZerosLike(flat).ScatterAdd(axis, arg, Tensor.Ones([.. arg.Shape], flat.DType, flat.Device));
            return [Constant(hot.Reshape([.. x.Shape]))];
        });
        ops["Dropout"] = new(c =>
        {
            var x = c.X(0);
            double ratio = c.Opset >= 12 ? c.Scalar(1) ?? 0.5 : c.Float("ratio", 0.5f);
            bool training = c.Opset >= 12 && c.Scalar(2) is { } mode ? mode != 0 || c.Training : c.Training;
            bool drop = training && ratio > 0;
            var y = drop ? Functional.Dropout(x, ratio, training: true) : x;
            if (!c.Node.WantsOutput(1)) return [y];
            if (drop) throw c.NotSupported("the mask output of a training-mode Dropout");
            return [y, Constant(Tensor.Full([.. x.Shape], 1, DType.Bool, x.Device))];
        });
        ops["NegativeLogLikelihoodLoss"] = new(c => [NllLoss(c, c.X(0), c.X(1).Data, c.In(2))]);
        ops["SoftmaxCrossEntropyLoss"] = new(c =>
        {
            var logp = c.X(0).LogSoftmax(1);
            var loss = NllLoss(c, logp, c.X(1).Data, c.In(2));
            return c.Node.WantsOutput(1) ? [loss, logp] : [loss];
        });
        ops["TopK"] = new(TopK);
    }

    /// <summary>4-D (and higher) convolutions and pools are refused at load (1-D, 2-D and 3-D run).</summary>
    private static string? RefuseSpatial(OnnxNode n)
    {
        if (n.Ints("kernel_shape") is { Length: > 3 } k) return $"{k.Length}-D {n.OpType}";
        // the weights' or the input's rank, where the file fixes it
        for (int i = 0; i < Math.Min(n.InputCount, 2); i++)
            if (n.KnownRank(n.Proto.Input[i]) is > 5 and var rank) return $"{rank - 2}-D {n.OpType}";
        return null;
    }

    /// <summary>x's dims before <paramref name="axis"/> multiplied (the rows of the 2-D view older opsets use).</summary>
    private static int Outer(Variable x, int axis)
    {
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        return outer;
    }

    private static Variable SoftmaxLike(OnnxCall c, Variable x, bool log)
    {
        if (c.Opset >= 13)
        {
            int axis = c.Axis(c.Long("axis", -1), x.Rank);
            return log ? x.LogSoftmax(axis) : x.Softmax(axis);
        }
        // before opset 13 the input is coerced to 2-D at axis (default 1) and normalised over the second dim
        int k = c.Axis(c.Long("axis", 1), x.Rank);
        var flat = x.Reshape(Outer(x, k), -1);
        var y = log ? flat.LogSoftmax(1) : flat.Softmax(1);
        return y.Reshape([.. x.Shape]);
    }

    /// <summary>(x − mean) / √(var + ε) over the dims from <paramref name="axis"/> on: the engine's LayerNorm without scale and bias.</summary>
    private static Variable Standardize(Variable x, int axis, double eps) => Functional.LayerNorm(x, x.Shape[axis..].ToArray(), null, null, eps);

    private static Variable[] LayerNormalization(OnnxCall c)
    {
        var x = c.X(0);
        int axis = c.Axis(c.Long("axis", -1), x.Rank);
        double eps = c.Float("epsilon", 1e-5f);
        int[] normalized = x.Shape[axis..].ToArray();
        var scale = c.X(1);
        var bias = c.In(2);
        Variable y;
        if (scale.Shape.SequenceEqual(normalized) && (bias is null || bias.Shape.SequenceEqual(normalized)) && x.DType == scale.DType)
            y = Functional.LayerNorm(x, normalized, scale, bias, eps);
        else
        {
            y = Standardize(x, axis, eps) * scale;
            if (bias is not null) y += bias;
        }
        if (!c.Node.WantsOutput(1) && !c.Node.WantsOutput(2)) return [y];
        // the optional statistics: mean and 1/√(var + ε), with the normalized dims kept as 1
        var (mean, inv) = MeanAndInvStd(x.Data, axis, eps);
        return [y, Constant(mean), Constant(inv)];
    }

    /// <summary>The mean and 1/√(var + ε) over the dims from <paramref name="axis"/> on (kept as size 1): LayerNorm's optional outputs.</summary>
    internal static (Tensor Mean, Tensor InvStd) MeanAndInvStd(Tensor x, int axis, double eps)
    {
        int[] axes = [.. Enumerable.Range(axis, x.Rank - axis)];
        var mean = x.Mean(axes, keepDim: true);
        using var variance = x.Var(axes, correction: 0, keepDim: true);
        using var std = variance.Add(Tensor.Scalar(eps, variance.DType)).Sqrt();
        return (mean, std.Reciprocal());
    }

    private static Variable[] BatchNormalization(OnnxCall c) => BatchNorm(c, c.X(0), 1);

    /// <summary>BatchNormalization of x with scale, bias, mean and variance at inputs <paramref name="first"/> to first + 3.</summary>
    internal static Variable[] BatchNorm(OnnxCall c, Variable x, int first)
    {
        if (x.Rank < 2) throw c.Error($"the input must be [N, C, …], not {Errors.Shape(x.Shape)}");
        var model = c.Model;
        var mean = model.RunningStatistic(c.Node.Proto.Input[first + 2]) ?? c.X(first + 2).Data;
        var variance = model.RunningStatistic(c.Node.Proto.Input[first + 3]) ?? c.X(first + 3).Data;
        bool training = c.Training || (c.Opset >= 14 && c.Int("training_mode", 0) != 0);
        double eps = c.Float("epsilon", 1e-5f);
        // ONNX: running = running·momentum + batch·(1 − momentum); ours (PyTorch's) weighs the batch by momentum
        double momentum = model.BatchNormMomentum ?? 1 - c.Float("momentum", 0.9f);
        // our kernel takes [N, C] and [N, C, H, W]; other ranks are viewed as [N, C, L, 1]
        var shape = x.Shape.ToArray();
        var view = x.Rank is 2 or 4 ? x : x.Reshape(shape[0], shape[1], shape[2..].Aggregate(1, (p, d) => p * d), 1);
        bool statistics = training && (c.Node.WantsOutput(1) || c.Node.WantsOutput(2));
        Tensor? meanBefore = statistics ? mean.Clone() : null, varBefore = statistics ? variance.Clone() : null;
        var y = Functional.BatchNorm(view, mean, variance, c.X(first), c.X(first + 1), training, momentum, eps).Reshape(shape);
        if (!statistics) return [y];
        // the training-mode outputs: running statistics updated with the batch's (population) mean and variance
        int[] axes = [0, .. Enumerable.Range(2, x.Rank - 2)];
        using var batchMean = x.Data.Mean(axes);
        using var batchVar = x.Data.Var(axes, correction: 0);
        double keep = c.Float("momentum", 0.9f);
        var runningMean = meanBefore!.Mul(Tensor.Scalar(keep, x.DType)).Add(batchMean.Mul(Tensor.Scalar(1 - keep, x.DType)));
        var runningVar = varBefore!.Mul(Tensor.Scalar(keep, x.DType)).Add(batchVar.Mul(Tensor.Scalar(1 - keep, x.DType)));
        return [y, Constant(runningMean), Constant(runningVar)];
    }

    /// <summary>A 1-D or 2-D op's geometry as 2-D: strides, dilations and pads, with auto_pad resolved for the input's size.</summary>
    private readonly record struct Window(Size2d Kernel, Size2d Stride, Size2d Dilation, Padding2d Padding);

    /// <summary>x as [N, C, H, W]: a 1-D [N, C, L] input becomes [N, C, 1, L].</summary>
    private static Variable As2d(OnnxCall c, Variable x)
    {
        if (x.Rank == 4) return x;
        if (x.Rank == 3) return x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2]);
        throw c.NotSupported($"a {Math.Max(x.Rank - 2, 0)}-D {c.Node.OpType} (input {Errors.Shape(x.Shape)}; 1-D and 2-D are)");
    }

    private static Window WindowOf(OnnxCall c, Variable x4, int spatial, long[] kernel, bool transposed = false, long[]? outputShape = null, long[]? outputPadding = null)
    {
        long[] Attr(string name, long fallback, int count)
        {
            var v = c.Ints(name);
            if (v is null) return [.. Enumerable.Repeat(fallback, count)];
            return v.Length == count ? v : throw c.Error($"{name} must have {count} values, not {v.Length}");
        }
        var s = Attr("strides", 1, spatial);
        var d = Attr("dilations", 1, spatial);
        var k = kernel;
        if (k.Length != spatial) throw c.Error($"the kernel has {k.Length} dims for a {spatial}-D input");
        long[] pads;
        string auto = c.String("auto_pad", "NOTSET");
        if (auto is "NOTSET" or "") pads = Attr("pads", 0, 2 * spatial);
        else if (auto == "VALID") pads = new long[2 * spatial];
        else if (auto is "SAME_UPPER" or "SAME_LOWER")
        {
            pads = new long[2 * spatial];
            for (int i = 0; i < spatial; i++)
            {
                long size = x4.Shape[4 - spatial + i], span = (k[i] - 1) * d[i] + 1, total;
                if (transposed)
                {
                    long op = outputPadding?[i] ?? 0, target = outputShape?[i] ?? size * s[i];
                    total = Math.Max(s[i] * (size - 1) + op + span - target, 0);
                }
                else
                {
                    long outSize = (size + s[i] - 1) / s[i];
                    total = Math.Max((outSize - 1) * s[i] + span - size, 0);
                }
                long small = total / 2, large = total - small;
                (pads[i], pads[i + spatial]) = auto == "SAME_LOWER" ? (large, small) : (small, large);
            }
        }
        else throw c.Error($"auto_pad '{auto}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        foreach (var v in s.Concat(d).Concat(k))
            if (v < 1 || v > OnnxChecks.MaxExtent) throw c.Error($"kernel, strides and dilations must be 1 to {OnnxChecks.MaxExtent}");
        foreach (var v in pads)
            if (v < 0 || v > OnnxChecks.MaxExtent) throw c.Error($"pads must be 0 to {OnnxChecks.MaxExtent}");
        return spatial == 2
            ? new(new((int)k[0], (int)k[1]), new((int)s[0], (int)s[1]), new((int)d[0], (int)d[1]), new((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]))
            : new(new(1, (int)k[0]), new(1, (int)s[0]), new(1, (int)d[0]), new(0, (int)pads[0], 0, (int)pads[1]));
    }

    /// <summary>
    /// The convolution of node <paramref name="c"/>, then + <paramref name="residual"/> and a ReLU when asked (fused into
    /// the convolution's writes when no gradient is needed and the residual has the output's shape).
    /// </summary>
    internal static Variable Conv(OnnxCall c, Variable x, Variable w, Variable? b, bool relu = false, Variable? residual = null)
    {
        if (x.Rank == 5 && w.Rank == 5) return Epilogue(Conv3d(c, x, w, b), relu, residual);
        int spatial = x.Rank - 2;
        var x4 = As2d(c, x);
        if (w.Rank != x.Rank) throw c.Error($"the weights {Errors.Shape(w.Shape)} and the input {Errors.Shape(x.Shape)} differ in rank");
        var w4 = As2d(c, w);
        int group = c.Int("group", 1);
        if (group < 1 || x.Shape[1] != w.Shape[1] * group)
            throw c.Error($"the input {Errors.Shape(x.Shape)} has {x.Shape[1]} channels but the weights {Errors.Shape(w.Shape)} with group {group} take {w.Shape[1] * group}");
        var window = WindowOf(c, x4, spatial, c.Ints("kernel_shape") ?? [.. w.Shape[2..].ToArray().Select(v => (long)v)]);
        var options = new Conv2dOptions { Stride = window.Stride, Dilation = window.Dilation, Groups = group, Padding = window.Padding };
        bool recorded = GradMode.IsEnabled && (x4.RequiresGrad || w4.RequiresGrad || b is { RequiresGrad: true } || residual is { RequiresGrad: true });
        if (relu && !recorded && spatial == 2 && (residual is null || residual.Shape.SequenceEqual(Tensor.Conv2dOutputShape(x4.Shape, w4.Shape, options))))
            return new Variable(x4.Data.Conv2dRelu(w4.Data, b?.Data, options, residual?.Data));
        var y = x4.Conv2d(w4, b, options);
        return Epilogue(spatial == 2 ? y : y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3]), relu, residual);
    }

    /// <summary>The unfused epilogue: y + residual (broadcasting), then a ReLU.</summary>
    private static Variable Epilogue(Variable y, bool relu, Variable? residual)
    {
        if (residual is not null) y = y + residual;
        return relu ? y.Relu() : y;
    }

    private static Variable[] ConvTranspose(OnnxCall c)
    {
        var (x, w, b) = (c.X(0), c.X(1), c.In(2));
        if (x.Rank == 5 && w.Rank == 5) return [ConvTranspose3d(c, x, w, b)];
        int spatial = x.Rank - 2;
        var x4 = As2d(c, x);
        if (w.Rank != x.Rank) throw c.Error($"the weights {Errors.Shape(w.Shape)} and the input {Errors.Shape(x.Shape)} differ in rank");
        var w4 = As2d(c, w);
        int group = c.Int("group", 1);
        if (group < 1 || x.Shape[1] != w.Shape[0] || w.Shape[0] % group != 0)
            throw c.Error($"the input {Errors.Shape(x.Shape)} has {x.Shape[1]} channels but the weights {Errors.Shape(w.Shape)} take {w.Shape[0]} (group {group})");
        long[] kernel = c.Ints("kernel_shape") ?? [.. w.Shape[2..].ToArray().Select(v => (long)v)];
        var outputPadding = c.Ints("output_padding");
        var outputShape = c.Ints("output_shape");
        if (outputShape is { } os && os.Length > spatial) outputShape = os[^spatial..];
        var window = WindowOf(c, x4, spatial, kernel, transposed: true, outputShape, outputPadding);
        int Out(int i, int size, int k, int s, int d, int before, int after) =>
            outputShape is not null && c.String("auto_pad", "NOTSET") is "NOTSET" or ""
                ? (int)outputShape[i]
                : s * (size - 1) + (int)(outputPadding?[i] ?? 0) + (k - 1) * d + 1 - before - after;
        var p = window.Padding;
        int h = spatial == 2 ? Out(0, x4.Shape[2], window.Kernel.H, window.Stride.H, window.Dilation.H, p.Top, p.Bottom) : 1;
        int wOut = Out(spatial - 1, x4.Shape[3], window.Kernel.W, window.Stride.W, window.Dilation.W, p.Left, p.Right);
        if (outputShape is not null && c.String("auto_pad", "NOTSET") is "NOTSET" or "" && !c.Has("pads"))
        {
            // output_shape without pads: the padding that gives it, split as SAME_UPPER does (the extra at the end)
            int Total(int size, int k, int s, int d, int target) => Math.Max(s * (size - 1) + (k - 1) * d + 1 - target, 0);
            int th = spatial == 2 ? Total(x4.Shape[2], window.Kernel.H, window.Stride.H, window.Dilation.H, h) : 0;
            int tw = Total(x4.Shape[3], window.Kernel.W, window.Stride.W, window.Dilation.W, wOut);
            p = new Padding2d(th / 2, tw / 2, th - th / 2, tw - tw / 2);
        }
        var options = new Conv2dOptions { Stride = window.Stride, Dilation = window.Dilation, Groups = group, Padding = p };
        int channels = w.Shape[1] * group;
        var y = x4.ConvTranspose2d(w4, b, [x.Shape[0], channels, h, wOut], options);
        return [spatial == 2 ? y : y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3])];
    }

    private static Pool2dOptions PoolOptions(OnnxCall c, Variable x4, int spatial, bool countIncludePad, out Padding2d extra)
    {
        var kernel = c.Node.RequiredInts("kernel_shape");
        var window = WindowOf(c, x4, spatial, kernel);
        var p = window.Padding;
        // our pooling kernels keep PyTorch's limit (pad ≤ kernel / 2); larger pads are applied before pooling
        bool fits = p.Top <= window.Kernel.H / 2 && p.Bottom <= window.Kernel.H / 2 && p.Left <= window.Kernel.W / 2 && p.Right <= window.Kernel.W / 2;
        extra = fits ? new Padding2d(0, 0, 0, 0) : p;
        return new Pool2dOptions(window.Kernel)
        {
            Stride = window.Stride, Dilation = window.Dilation, CeilMode = c.Int("ceil_mode", 0) != 0, CountIncludePad = countIncludePad,
            Padding = fits ? p : new Padding2d(0, 0, 0, 0),
        };
    }

    private static Variable PadPlane(Variable x, Padding2d p, double value) =>
        x.Pad(p.ToPad(), value);

    private static Variable[] MaxPool(OnnxCall c)
    {
        var x = c.X(0);
        if (x.Rank == 5)
            return c.Node.WantsOutput(1) ? throw c.NotSupported("the Indices output of a 3-D MaxPool") : [Pool3d(c, x, max: true)];
        int spatial = x.Rank - 2;
        var x4 = As2d(c, x);
        var options = PoolOptions(c, x4, spatial, countIncludePad: true, out var extra);
        bool padded = extra != new Padding2d(0, 0, 0, 0);
        if (padded) x4 = PadPlane(x4, extra, double.NegativeInfinity);
        var y = x4.MaxPool2d(options);
        var result = spatial == 2 ? y : y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3]);
        if (!c.Node.WantsOutput(1)) return [result];
        if (spatial != 2 || padded) throw c.NotSupported("the Indices output of a 1-D MaxPool or one padded beyond half its kernel");
        return [result, Constant(MaxPoolIndices(x4.Data, options, columnMajor: c.Int("storage_order", 0) != 0))];
    }

    private static Variable[] AveragePool(OnnxCall c)
    {
        var x = c.X(0);
        if (x.Rank == 5) return [Pool3d(c, x, max: false)];
        int spatial = x.Rank - 2;
        var x4 = As2d(c, x);
        bool include = c.Int("count_include_pad", 0) != 0;
        var options = PoolOptions(c, x4, spatial, include, out var extra);
        Variable y;
        if (c.Model.IsFinalGlobalPool(c.Node.Proto) && (x4.Shape[2] != options.Kernel.H || x4.Shape[3] != options.Kernel.W))
            y = x4.GlobalAvgPool2d();
        else if (extra == new Padding2d(0, 0, 0, 0)) y = x4.AvgPool2d(options);
        else
        {
            // padded beyond half the window: the zeros are added first; without count_include_pad each
            // window's sum is divided by the number of real values in it (the pooled mask of ones)
            var sum = PadPlane(x4, extra, 0).AvgPool2d(options with { CountIncludePad = true });
            if (include) y = sum;
            else
            {
                using var ones = Tensor.Ones([1, 1, x4.Shape[2], x4.Shape[3]], x4.DType, x4.Device);
                var count = PadPlane(new Variable(ones), extra, 0).AvgPool2d(options with { CountIncludePad = true });
                y = sum / count;
            }
        }
        return [spatial == 2 ? y : y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3])];
    }

    private static Variable GlobalPool(OnnxCall c, Variable x, bool max)
    {
        if (x.Rank < 3) throw c.Error($"the input must be [N, C, …] with spatial dims, not {Errors.Shape(x.Shape)}");
        if (!max && x.Rank == 4) return x.GlobalAvgPool2d();
        int[] axes = [.. Enumerable.Range(2, x.Rank - 2)];
        return max ? x.Max(axes, keepDim: true) : x.Mean(axes, keepDim: true);
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

    /// <summary>
    /// ONNX's NegativeLogLikelihoodLoss on log-probabilities [N, C, d…] and targets [N, d…]: −w[t]·x[n, t, d…],
    /// targets equal to ignore_index contributing nothing; reduced by none, sum, or mean (divided by Σ w[t]).
    /// </summary>
    private static Variable NllLoss(OnnxCall c, Variable logp, Tensor target, Variable? weight)
    {
        if (logp.Rank < 2) throw c.Error($"the input must be [N, C, …], not {Errors.Shape(logp.Shape)}");
        if (!target.DType.IsInteger()) throw c.Error($"the targets must be integers, not {target.DType.Name()}");
        int classes = logp.Shape[1];
        var expected = logp.Shape.ToArray().Where((_, i) => i != 1).ToArray();
        if (!target.Shape.SequenceEqual(expected)) throw c.Error($"targets {Errors.Shape(target.Shape)} do not match the input {Errors.Shape(logp.Shape)} (want {Errors.Shape(expected)})");
        long? ignore = c.Has("ignore_index") ? c.Long("ignore_index", 0) : null;
        var t = target.To(DType.Int64).ToArray<long>();
        var keep = new bool[t.Length];
        for (int i = 0; i < t.Length; i++)
        {
            keep[i] = t[i] != ignore;
            if (!keep[i]) t[i] = 0;
            else if (t[i] < 0 || t[i] >= classes) throw c.Error($"target {t[i]} is out of range for {classes} classes");
        }
        using var index = Tensor.FromArray(t).Reshape(expected).Unsqueeze(1);
        var picked = logp.Gather(1, index.To(logp.Device)).Squeeze(1);
        using var mask = Tensor.FromArray(keep).Reshape(expected);
        var m = mask.To(logp.Device);
        Variable w;
        if (weight is null) w = new Variable(Tensor.Where(m, Tensor.Ones([], logp.DType, logp.Device), Tensor.Zeros([], logp.DType, logp.Device)));
        else
        {
            using var flatIndex = Tensor.FromArray(t);
            var perTarget = weight.IndexSelect(0, flatIndex.To(logp.Device)).Reshape(expected);
            w = Variable.Where(m, perTarget, Zero(perTarget));
        }
        var losses = -(picked * w);
        return c.String("reduction", "mean") switch
        {
            "none" => losses,
            "sum" => losses.Sum(),
            "mean" => losses.Sum() / w.Sum(),
            var other => throw c.Error($"reduction '{other}' is not one of none, sum, mean"),
        };
    }

    private static Variable[] TopK(OnnxCall c)
    {
        var x = c.X(0);
        long k = c.Opset >= 10 ? c.RequiredLongs(1, "K") is [var only] ? only : throw c.Error("K must hold one value") : c.Long("k", 0);
        int axis = c.Axis(c.Long("axis", -1), x.Rank);
        int n = x.Shape[axis];
        if (k < 0 || k > n) throw c.Error($"K = {k} for an axis of {n}");
        bool largest = c.Opset < 11 || c.Int("largest", 1) != 0;
        // per line along the axis: a stable sort, ties broken by the lower index (ONNX's rule)
        var moved = x.Data.Transpose(axis, x.Rank - 1).Contiguous();
        using var d = moved.To(DType.Float64);
        var values = d.ToArray<double>();
        int lines = n == 0 ? 0 : values.Length / n;
        var picked = new long[lines * k];
        var order = new int[n];
        for (int line = 0; line < lines; line++)
        {
            for (int i = 0; i < n; i++) order[i] = i;
            int b = line * n;
            Array.Sort(order, (i, j) =>
            {
                int cmp = largest ? values[b + j].CompareTo(values[b + i]) : values[b + i].CompareTo(values[b + j]);
                return cmp != 0 ? cmp : i.CompareTo(j);
            });
            for (int i = 0; i < k; i++) picked[line * k + i] = order[i];
        }
        var shape = moved.Shape.ToArray();
        shape[^1] = (int)k;
        using var idx = Tensor.FromArray(picked).Reshape(shape);
        var index = idx.Transpose(axis, x.Rank - 1).Contiguous().To(x.Device);
        var chosen = x.DType.IsFloating() ? x.Gather(axis, index) : Constant(x.Data.Gather(axis, index));
        return [chosen, Constant(index)];
    }
}
