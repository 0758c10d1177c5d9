namespace Engine.Onnx;

// Resize (opset 10 on) and Upsample (7 to 9): nearest, linear and cubic, every coordinate
// transformation mode, separable per axis. Each resized axis is a sum over taps of x's slices
// (IndexSelect) times per-position weights, so the result is differentiable in x.
internal static partial class OnnxOps
{
    private static void RegisterResize(Dictionary<string, OpDef> ops)
    {
        ops["Resize"] = new(c => [Resize(c)], Refuse: n =>
            n.Int("antialias", 0) != 0 ? "Resize with antialias=1"
            : n.String("mode", "nearest") is not ("nearest" or "linear" or "cubic") ? $"Resize mode '{n.String("mode", "")}'"
            : null);
        ops["Upsample"] = new(c => [Resize(c)], Refuse: n =>
            n.String("mode", "nearest") is not ("nearest" or "linear" or "bilinear") ? $"Upsample mode '{n.String("mode", "")}'" : null);
    }

    private static Variable Resize(OnnxCall c)
    {
        var x = c.X(0);
        int rank = x.Rank;
        bool upsample = c.Node.OpType == "Upsample";
        // Upsample and opset-10 Resize: scales only, the asymmetric transform, nearest rounding down
        bool legacy = upsample || c.Opset < 11;
        string mode = c.String("mode", "nearest") is "bilinear" ? "linear" : c.String("mode", "nearest");
        string transform = legacy ? "asymmetric" : c.String("coordinate_transformation_mode", "half_pixel");
        string nearest = legacy ? "floor" : c.String("nearest_mode", "round_prefer_floor");
        double a = c.Float("cubic_coeff_a", -0.75f);
        bool exclude = c.Int("exclude_outside", 0) != 0;
        double extrapolation = c.Float("extrapolation_value", 0f);

        double[]? scales;
        long[]? sizes = null;
        double[]? roi = null;
        if (upsample) scales = c.Opset < 9 ? c.Floats("scales")?.Select(f => (double)f).ToArray() : c.Doubles(1);
        else if (c.Opset < 11) scales = c.Doubles(1);
        else
        {
            roi = c.In(1) is { } r && r.Data.Numel > 0 ? c.Doubles(1) : null;
            scales = c.In(2) is { } s && s.Data.Numel > 0 ? c.Doubles(2) : null;
            sizes = c.In(3) is { } z && z.Data.Numel > 0 ? c.Longs(3) : null;
        }
        int[] axes = c.Opset >= 18 && c.Ints("axes") is { } ax ? [.. ax.Select(v => c.Axis(v, rank))] : [.. Enumerable.Range(0, rank)];
        if ((scales is null) == (sizes is null)) throw c.Error("exactly one of scales and sizes must be given");
        int count = (scales?.Length ?? sizes!.Length);
        if (count != axes.Length) throw c.Error($"{(scales is null ? "sizes" : "scales")} has {count} values for {axes.Length} axes");

        var outSize = x.Shape.ToArray();
        var scale = Enumerable.Repeat(1.0, rank).ToArray();
        if (scales is not null)
            for (int i = 0; i < axes.Length; i++)
            {
                if (!(scales[i] > 0) || double.IsInfinity(scales[i])) throw c.Error($"scale {scales[i]} must be positive");
                scale[axes[i]] = scales[i];
                double o = Math.Floor(x.Shape[axes[i]] * scales[i]);
                outSize[axes[i]] = o is >= 0 and <= int.MaxValue ? (int)o : throw c.Error($"scale {scales[i]} gives {o} values on axis {axes[i]}");
            }
        else
        {
            string policy = c.Opset >= 18 ? c.String("keep_aspect_ratio_policy", "stretch") : "stretch";
            double fit = policy switch
            {
                "stretch" => 0,
                "not_larger" => axes.Select((d, i) => (double)sizes![i] / x.Shape[d]).Min(),
                "not_smaller" => axes.Select((d, i) => (double)sizes![i] / x.Shape[d]).Max(),
                _ => throw c.Error($"keep_aspect_ratio_policy '{policy}' is not one of stretch, not_larger, not_smaller"),
            };
            for (int i = 0; i < axes.Length; i++)
            {
                int d = axes[i];
                long target = policy == "stretch" ? sizes![i] : (long)Math.Round(fit * x.Shape[d], MidpointRounding.AwayFromZero);
                if (target is < 0 or > int.MaxValue) throw c.Error($"size {target} on axis {d} is not a size");
                outSize[d] = (int)target;
                scale[d] = policy == "stretch" ? (x.Shape[d] == 0 ? 1 : (double)target / x.Shape[d]) : fit;
            }
        }
        if (roi is not null && roi.Length != 2 * axes.Length) throw c.Error($"roi has {roi.Length} values; {2 * axes.Length} are needed");

        var y = x;
        Tensor? outside = null;
        for (int d = 0; d < rank; d++)
        {
            int inSize = x.Shape[d], n = outSize[d];
            int k = Array.IndexOf(axes, d);
            double start = roi is not null && k >= 0 ? roi[k] : 0, end = roi is not null && k >= 0 ? roi[k + axes.Length] : 1;
            if (n == inSize && scale[d] == 1 && transform != "tf_crop_and_resize") continue;
            if (inSize == 0) throw c.Error($"axis {d} is empty");
            var (taps, flags) = Taps(c, mode, transform, nearest, a, exclude, inSize, n, scale[d], start, end);
            Variable? sum = null;
            foreach (var (index, weight) in taps)
            {
                var picked = Take(y, d, Tensor.FromArray(index));
                if (weight is not null)
                {
                    var shape = Enumerable.Repeat(1, rank).ToArray();
                    shape[d] = n;
                    using var w = Tensor.FromArray(weight).Reshape(shape);
                    picked *= new Variable(w.To(y.DType).To(y.Device));
                }
                sum = sum is null ? picked : sum + picked;
            }
            y = sum!;
            if (flags is not null)
            {
                var shape = Enumerable.Repeat(1, rank).ToArray();
                shape[d] = n;
                var f = Tensor.FromArray(flags).Reshape(shape).To(x.Device);
                outside = outside is null ? f : Tensor.Where(outside, outside, f);
            }
        }
        if (outside is not null)
            y = Variable.Where(outside, new Variable(Tensor.Full([], extrapolation, y.DType, y.Device)), y);
        return y;
    }

    /// <summary>
    /// For one axis of <paramref name="inSize"/> resized to <paramref name="n"/>: the taps (source index and weight per
    /// output position; a null weight means 1) and, for tf_crop_and_resize, which positions fall outside the input.
    /// </summary>
    private static (List<(long[] Index, double[]? Weight)> Taps, bool[]? Outside) Taps(OnnxCall c, string mode, string transform,
        string nearest, double a, bool exclude, int inSize, int n, double scale, double start, double end)
    {
        // the resized length the transforms divide by is the input's times the scale, not rounded (ONNX's reference)
        double length = inSize * scale;
        double Source(int i) => transform switch
        {
            "half_pixel" => (i + 0.5) / scale - 0.5,
            "half_pixel_symmetric" => inSize / 2.0 * (1 - n / (inSize * scale)) + (i + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => length > 1 ? (i + 0.5) / scale - 0.5 : 0,
            "align_corners" => length <= 1 ? 0 : i * (inSize - 1.0) / (length - 1),
            "asymmetric" => i / scale,
            "tf_half_pixel_for_nn" => (i + 0.5) / scale,
            "tf_crop_and_resize" => length > 1 ? start * (inSize - 1) + i * (end - start) * (inSize - 1) / (length - 1) : 0.5 * (start + end) * (inSize - 1),
            _ => throw c.NotSupported($"coordinate_transformation_mode '{transform}'"),
        };
        long Clamp(long v) => Math.Clamp(v, 0, inSize - 1);
        bool[]? outside = transform == "tf_crop_and_resize" ? new bool[n] : null;
        var result = new List<(long[], double[]?)>();
        if (mode == "nearest")
        {
            var index = new long[n];
            for (int i = 0; i < n; i++)
            {
                double s = Source(i);
                if (outside is not null && (s < 0 || s > inSize - 1)) outside[i] = true;
                double f = Math.Floor(s);
                long r = nearest switch
                {
                    "round_prefer_floor" => (long)(s - f == 0.5 ? f : Math.Round(s, MidpointRounding.AwayFromZero)),
                    "round_prefer_ceil" => (long)(s - f == 0.5 ? f + 1 : Math.Round(s, MidpointRounding.AwayFromZero)),
                    "floor" => (long)f,
                    "ceil" => (long)Math.Ceiling(s),
                    _ => throw c.Error($"nearest_mode '{nearest}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil"),
                };
                index[i] = Clamp(r);
            }
            result.Add((index, null));
            return (result, outside);
        }
        int taps = mode == "linear" ? 2 : 4, first = mode == "linear" ? 0 : -1;
        var indices = Enumerable.Range(0, taps).Select(_ => new long[n]).ToArray();
        var weights = Enumerable.Range(0, taps).Select(_ => new double[n]).ToArray();
        for (int i = 0; i < n; i++)
        {
            double s = Source(i);
            if (outside is not null && (s < 0 || s > inSize - 1)) outside[i] = true;
            // linear interpolation never reads outside the input: the position is clamped to it
            if (mode == "linear") s = Math.Clamp(s, 0, inSize - 1);
            double f = Math.Floor(s), r = s - f;
            double[] w = mode == "linear" ? [1 - r, r] : Cubic(r, a);
            double total = 0;
            for (int t = 0; t < taps; t++)
            {
                long at = (long)f + first + t;
                if (exclude && (at < 0 || at >= inSize)) w[t] = 0;
                total += w[t];
                indices[t][i] = Clamp(at);
            }
            for (int t = 0; t < taps; t++) weights[t][i] = exclude && total != 0 ? w[t] / total : w[t];
        }
        for (int t = 0; t < taps; t++) result.Add((indices[t], weights[t]));
        return (result, outside);
    }

    /// <summary>Keys' cubic convolution weights for the taps at −1, 0, 1, 2 around a position a fraction r past a sample.</summary>
    private static double[] Cubic(double r, double a)
    {
        double W(double t)
        {
            t = Math.Abs(t);
            return t <= 1 ? ((a + 2) * t - (a + 3)) * t * t + 1
                : t < 2 ? ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
                : 0;
        }
        return [W(r + 1), W(r), W(1 - r), W(2 - r)];
    }
}
