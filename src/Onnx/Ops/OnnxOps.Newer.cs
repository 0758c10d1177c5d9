namespace Engine.Onnx;

// Ops of opsets 18 to 21 that image and diffusion models use: GroupNormalization, LpNormalization,
// LpPool and GlobalLpPool, CenterCropPad, AffineGrid, and the bitwise ops on integers.
internal static partial class OnnxOps
{
    private static void RegisterNewer(Dictionary<string, OpDef> ops)
    {
        ops["GroupNormalization"] = new(GroupNormalization);
        ops["LpNormalization"] = new(c =>
        {
            var x = c.X(0);
            int axis = c.Axis(c.Long("axis", -1), x.Rank);
            int p = c.Int("p", 2);
            var norm = p switch
            {
                1 => x.Abs().Sum([axis], keepDim: true),
                2 => (x * x).Sum([axis], keepDim: true).Sqrt(),
                _ => throw c.Error($"p = {p}: LpNormalization takes 1 or 2"),
            };
            return [x / norm];
        });
        ops["LpPool"] = new(LpPool, Refuse: RefuseSpatial);
        ops["GlobalLpPool"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank < 3) throw c.Error($"the input must be [N, C, …] with spatial dims, not {Errors.Shape(x.Shape)}");
            double p = c.Int("p", 2);
            int[] axes = [.. Enumerable.Range(2, x.Rank - 2)];
            return [LpSum(x, p, v => v.Sum(axes, keepDim: true))];
        });
        ops["CenterCropPad"] = new(c =>
        {
            var x = c.X(0);
            var target = c.RequiredLongs(1, "shape");
            int[] axes = c.Ints("axes") is { } a ? [.. a.Select(v => c.Axis(v, x.Rank))] : [.. Enumerable.Range(0, x.Rank)];
            if (target.Length != axes.Length) throw c.Error($"shape has {target.Length} values for {axes.Length} axes");
            var y = x;
            for (int k = 0; k < axes.Length; k++)
            {
                int d = axes[k], size = y.Shape[d];
                long want = target[k];
                if (want < 0 || want > int.MaxValue) throw c.Error($"shape value {want} is not a size");
                if (want < size) y = y.Narrow(d, (int)((size - want) / 2), (int)want);
                else if (want > size)
                {
                    var pads = new int[2 * y.Rank];
                    int before = (int)((want - size) / 2);
                    pads[2 * (y.Rank - 1 - d)] = before;
                    pads[2 * (y.Rank - 1 - d) + 1] = (int)(want - size) - before;
                    y = y.DType.IsFloating() ? y.Pad(pads) : Constant(y.Data.Pad(pads));
                }
            }
            return [y];
        });
        ops["AffineGrid"] = new(c =>
        {
            var theta = c.X(0);
            var size = c.RequiredLongs(1, "size");
            if (size.Length != 4 || theta.Rank != 3 || theta.Shape[1] != 2 || theta.Shape[2] != 3)
                throw c.NotSupported($"AffineGrid of theta {Errors.Shape(theta.Shape)} and size [{string.Join(", ", size)}] (the 2-D form, [N, 2, 3] and [N, C, H, W], is)");
            bool align = c.Int("align_corners", 0) != 0;
            int n = theta.Shape[0], h = Sizes(c, [size[2]], "size")[0], w = Sizes(c, [size[3]], "size")[0];
            if ((long)h * w > MaxBuilt) throw c.NotSupported($"a grid of {h}×{w}");
            double At(int i, int count) => align ? (count == 1 ? 0 : -1 + 2.0 * i / (count - 1)) : (2.0 * i + 1) / count - 1;
            var basis = new double[h * w * 3];
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    (basis[(i * w + j) * 3], basis[(i * w + j) * 3 + 1], basis[(i * w + j) * 3 + 2]) = (At(j, w), At(i, h), 1);
            using var b = Tensor.FromArray(basis).Reshape(h * w, 3);
            // [H·W, 3] · θᵀ per sample: [N, H·W, 2]
            var grid = new Variable(b.To(theta.DType).To(theta.Device)).MatMul(theta.Transpose(1, 2));
            return [grid.Reshape(n, h, w, 2)];
        });
        ops["BitwiseAnd"] = new(c => Bitwise(c, (a, b) => a & b));
        ops["BitwiseOr"] = new(c => Bitwise(c, (a, b) => a | b));
        ops["BitwiseXor"] = new(c => Bitwise(c, (a, b) => a ^ b));
        ops["BitwiseNot"] = new(c =>
        {
            var x = c.X(0).Data;
            if (!x.DType.IsInteger()) throw c.Error($"BitwiseNot takes integers, not {x.DType.Name()}");
            var v = x.To(DType.Int64).Contiguous().ToArray<long>();
            for (int i = 0; i < v.Length; i++) v[i] = ~v[i];
            using var t = Tensor.FromArray(v).Reshape([.. x.Shape]);
            return [Constant(t.To(x.DType))];
        });
    }

    private static Variable[] Bitwise(OnnxCall c, Func<long, long, long> op)
    {
        var (a, b) = (c.X(0).Data, c.X(1).Data);
        if (!a.DType.IsInteger() || a.DType != b.DType) throw c.Error($"{c.Node.OpType} takes two integer tensors of one type, not {a.DType.Name()} and {b.DType.Name()}");
        var shape = Broadcast(c, a.Shape, b.Shape);
        var x = a.Expand(shape).Contiguous().To(DType.Int64).ToArray<long>();
        var y = b.Expand(shape).Contiguous().To(DType.Int64).ToArray<long>();
        for (int i = 0; i < x.Length; i++) x[i] = op(x[i], y[i]);
        using var t = Tensor.FromArray(x).Reshape(shape);
        return [Constant(t.To(a.DType))];
    }

    /// <summary>(Σ |x|ᵖ)^(1/p) with the sum taken by <paramref name="sum"/> (p = 1 and 2 without a power).</summary>
    private static Variable LpSum(Variable x, double p, Func<Variable, Variable> sum) => p switch
    {
        1 => sum(x.Abs()),
        2 => sum(x * x).Sqrt(),
        _ => sum(x.Abs().Pow(p)).Pow(1 / p),
    };

    private static Variable[] LpPool(OnnxCall c)
    {
        var x = c.X(0);
        int spatial = x.Rank - 2;
        var x4 = As2d(c, x);
        double p = c.Int("p", 2);
        if (p < 1) throw c.Error($"p = {p} must be at least 1");
        var options = PoolOptions(c, x4, spatial, countIncludePad: true, out var extra);
        double window = options.Kernel.H * (double)options.Kernel.W;
        // Σ over the window = the average with the zeros of the padding counted, times the window's size
        var y = LpSum(x4, p, v => (extra == new Padding2d(0, 0, 0, 0) ? v : PadPlane(v, extra, 0)).AvgPool2d(options) * window);
        return [spatial == 2 ? y : y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3])];
    }

    private static Variable[] GroupNormalization(OnnxCall c)
    {
        var x = c.X(0);
        var (scale, bias) = (c.X(1), c.X(2));
        int groups = c.Int("num_groups", 0);
        if (x.Rank < 3) throw c.Error($"the input must be [N, C, …] with spatial dims, not {Errors.Shape(x.Shape)}");
        int n = x.Shape[0], channels = x.Shape[1];
        if (groups < 1 || channels % groups != 0) throw c.Error($"num_groups {groups} does not divide {channels} channels");
        var grouped = Standardize(x.Reshape(n, groups, -1), 2, c.Float("epsilon", 1e-5f)).Reshape([.. x.Shape]);
        // opset 18 gives scale and bias per group, opset 21 per channel
        Variable PerChannel(Variable v, string what)
        {
            if (v.Rank == 1 && v.Shape[0] == channels) return v;
            if (v.Rank == 1 && v.Shape[0] == groups) return v.Reshape(groups, 1).Expand(groups, channels / groups).Contiguous().Reshape(channels);
            throw c.Error($"{what} {Errors.Shape(v.Shape)} is neither [{groups}] (per group) nor [{channels}] (per channel)");
        }
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[1] = channels;
        return [grouped * PerChannel(scale, "scale").Reshape(shape) + PerChannel(bias, "bias").Reshape(shape)];
    }
}
