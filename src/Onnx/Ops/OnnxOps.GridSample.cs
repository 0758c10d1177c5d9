namespace Engine.Onnx;

// GridSample: each output pixel reads the input at a location the grid gives (x, y in [−1, 1]),
// by nearest, bilinear or bicubic taps, with zeros, border or reflection padding. The taps are
// gathers from the input, and their weights are Variables of the grid, so gradients reach both.
internal static partial class OnnxOps
{
    private static void RegisterGridSample(Dictionary<string, OpDef> ops)
    {
        ops["GridSample"] = new(GridSample, Refuse: n =>
            NormalizeGridMode(n.String("mode", "bilinear")) is null ? $"GridSample mode '{n.String("mode", "")}'"
            : n.String("padding_mode", "zeros") is not ("zeros" or "border" or "reflection") ? $"GridSample padding_mode '{n.String("padding_mode", "")}'"
            : null);
    }

    private static string? NormalizeGridMode(string mode) => mode switch
    {
        "bilinear" or "linear" => "linear",
        "bicubic" or "cubic" => "cubic",
        "nearest" => "nearest",
        _ => null,
    };

    private static Variable[] GridSample(OnnxCall c)
    {
        var x = c.X(0);
        var grid = c.X(1);
        if (x.Rank != 4) throw c.NotSupported($"a {x.Rank - 2}-D GridSample (2-D is)");
        if (grid.Rank != 4 || grid.Shape[0] != x.Shape[0] || grid.Shape[3] != 2)
            throw c.Error($"the grid {Errors.Shape(grid.Shape)} is not [N, H_out, W_out, 2] for the input {Errors.Shape(x.Shape)}");
        string mode = NormalizeGridMode(c.String("mode", "bilinear"))!;
        string padding = c.String("padding_mode", "zeros");
        bool alignCorners = c.Int("align_corners", 0) != 0;
        int n = x.Shape[0], channels = x.Shape[1], h = x.Shape[2], w = x.Shape[3], ho = grid.Shape[1], wo = grid.Shape[2];
        if (grid.DType != x.DType) grid = grid.To(x.DType);
        // pixel coordinates from the grid's [−1, 1]
        Variable Denormalize(Variable g, int size) => alignCorners ? (g + 1.0) * ((size - 1) / 2.0) : ((g + 1.0) * size - 1.0) * 0.5;
        var px = Denormalize(grid.Select(3, 0), w);
        var py = Denormalize(grid.Select(3, 1), h);
        (double Lo, double Hi) Border(int size) => alignCorners ? (0, size - 1) : (-0.5, size - 0.5);
        // a location folded back into [lo, hi], and the sign of its derivative (−1 where the fold mirrors it)
        (double Value, double Sign) Fold(double v, double lo, double hi)
        {
            double range = hi - lo;
            if (range <= 0) return (lo, 0);
            if (v < lo)
            {
                double dx = lo - v, k = Math.Floor(dx / range), r = dx - k * range;
                return k % 2 == 0 ? (lo + r, -1) : (hi - r, 1);
            }
            if (v > hi)
            {
                double dx = v - hi, k = Math.Floor(dx / range), r = dx - k * range;
                return k % 2 == 0 ? (hi - r, -1) : (lo + r, 1);
            }
            return (v, 1);
        }
        double Reflect(double v, double lo, double hi) => Fold(v, lo, hi).Value;
        // padding of the location: border clamps it, reflection folds it back (as ±v + offset, so it stays a Variable)
        Variable Pad(Variable v, int size)
        {
            if (padding == "border") return v.Clamp(0, size - 1);
            if (padding != "reflection") return v;
            var (lo, hi) = Border(size);
            var values = v.Data.Contiguous().To(DType.Float64).ToArray<double>();
            var sign = new double[values.Length];
            var offset = new double[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                var (r, d) = double.IsFinite(values[i]) ? Fold(values[i], lo, hi) : (values[i], 1.0);
                sign[i] = d;
                offset[i] = double.IsFinite(values[i]) ? r - d * values[i] : 0;
            }
            using var s = Tensor.FromArray(sign).Reshape([.. v.Shape]);
            using var o = Tensor.FromArray(offset).Reshape([.. v.Shape]);
            return v * new Variable(s.To(v.DType).To(v.Device)) + new Variable(o.To(v.DType).To(v.Device));
        }
        px = Pad(px, w);
        py = Pad(py, h);
        var xs = px.Data.Contiguous().To(DType.Float64).ToArray<double>();
        var ys = py.Data.Contiguous().To(DType.Float64).ToArray<double>();
        int points = ho * wo;
        // the taps along one axis: source index per tap and output point, and the weight as a Variable of the location
        (long[][] Index, Variable[] Weight) Taps(double[] v, Variable location, int size)
        {
            if (mode == "nearest")
            {
                var idx = new long[v.Length];
                for (int i = 0; i < v.Length; i++) idx[i] = (long)Math.Round(v[i], MidpointRounding.ToEven);
                return ([idx], [new Variable(Tensor.Ones([.. location.Shape], location.DType, location.Device))]);
            }
            var floor = v.Select(Math.Floor).ToArray();
            using var f = Tensor.FromArray(floor).Reshape([.. location.Shape]);
            var t = location - new Variable(f.To(location.DType).To(location.Device));
            if (mode == "linear")
                return ([floor.Select(q => (long)q).ToArray(), floor.Select(q => (long)q + 1).ToArray()], [1.0 - t, t]);
            const double a = -0.75;
            Variable Near(Variable s) => ((a + 2) * s - (a + 3)) * s * s + 1.0;           // |s| ≤ 1
            Variable Far(Variable s) => ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;          // 1 < |s| < 2
            return ([.. Enumerable.Range(-1, 4).Select(d => floor.Select(q => (long)q + d).ToArray())],
                [Far(t + 1.0), Near(t), Near(1.0 - t), Far(2.0 - t)]);
        }
        var (ix, wx) = Taps(xs, px, w);
        var (iy, wy) = Taps(ys, py, h);
        // an index outside the input: zeros padding weighs it 0; border and reflection bring it inside
        long Place(long i, int size, out bool inside)
        {
            inside = i >= 0 && i < size;
            if (inside || padding == "zeros") return inside ? i : 0;
            if (padding == "border") return Math.Clamp(i, 0, size - 1);
            var (lo, hi) = Border(size);
            return Math.Clamp((long)Math.Round(Reflect(i, lo, hi)), 0, size - 1);
        }
        var flat = x.Reshape(n, channels, h * w);
        Variable? sum = null;
        for (int a = 0; a < iy.Length; a++)
            for (int b = 0; b < ix.Length; b++)
            {
                var index = new long[n * points];
                var valid = new bool[n * points];
                for (int i = 0; i < index.Length; i++)
                {
                    long row = Place(iy[a][i], h, out bool inY), col = Place(ix[b][i], w, out bool inX);
                    index[i] = row * w + col;
                    valid[i] = padding != "zeros" || (inY && inX);
                }
                using var idx = Tensor.FromArray(index).Reshape(n, 1, points);
                var picked = flat.Gather(2, idx.Expand(n, channels, points).Contiguous().To(x.Device));
                var weight = (wy[a] * wx[b]).Reshape(n, 1, points);
                using var m = Tensor.FromArray(valid).Reshape(n, 1, points);
                var term = Variable.Where(m.To(x.Device), picked * weight, Zero(picked));
                sum = sum is null ? term : sum + term;
            }
        return [sum!.Reshape(n, channels, ho, wo)];
    }
}
