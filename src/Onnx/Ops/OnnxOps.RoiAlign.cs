namespace Engine.Onnx;

// RoiAlign: per region and output bin, a grid of sample points read bilinearly (ONNX Runtime's rules at
// the borders); "avg" averages them, "max" takes the largest weighted tap. Written as a gather and a
// scatter-add (avg) or a gather of the chosen taps (max), so gradients reach the feature map.
internal static partial class OnnxOps
{
    private static void RegisterRoiAlign(Dictionary<string, OpDef> ops) => ops["RoiAlign"] = new(RoiAlign);

    private static Variable[] RoiAlign(OnnxCall c)
    {
        var x = c.X(0);
        var rois = c.X(1).Data;
        var batchIndex = c.RequiredLongs(2, "batch_indices");
        if (x.Rank != 4) throw c.Error($"the input must be [N, C, H, W], not {Errors.Shape(x.Shape)}");
        if (rois.Rank != 2 || rois.Shape[1] != 4 || rois.Shape[0] != batchIndex.Length)
            throw c.Error($"rois {Errors.Shape(rois.Shape)} must be [R, 4] with one batch index each ({batchIndex.Length} given)");
        int n = x.Shape[0], channels = x.Shape[1], h = x.Shape[2], w = x.Shape[3], regions = rois.Shape[0];
        int outH = c.Int("output_height", 1), outW = c.Int("output_width", 1), ratio = c.Int("sampling_ratio", 0);
        double scale = c.Float("spatial_scale", 1f);
        bool halfPixel = c.Opset >= 16 && c.String("coordinate_transformation_mode", "half_pixel") == "half_pixel";
        bool max = c.String("mode", "avg") == "max";
        if (outH < 1 || outW < 1 || ratio < 0) throw c.Error($"output {outH}×{outW}, sampling_ratio {ratio}");
        int bins = outH * outW;
        var box = rois.Contiguous().To(DType.Float64).ToArray<double>();
        // per region: (bin, flat pixel, weight) taps of every sample point, and how many samples each bin averages
        var taps = new List<(int Bin, int Pixel, double Weight)>[regions];
        var counts = new double[regions];
        for (int r = 0; r < regions; r++)
        {
            long b = batchIndex[r];
            if (b < 0 || b >= n) throw c.Error($"batch index {b} is outside 0 to {n - 1}");
            double offset = halfPixel ? 0.5 : 0;
            double x0 = box[4 * r] * scale - offset, y0 = box[4 * r + 1] * scale - offset;
            double rw = box[4 * r + 2] * scale - offset - x0, rh = box[4 * r + 3] * scale - offset - y0;
            if (!halfPixel) { rw = Math.Max(rw, 1); rh = Math.Max(rh, 1); }
            double binH = rh / outH, binW = rw / outW;
            int gridH = ratio > 0 ? ratio : (int)Math.Ceiling(rh / outH), gridW = ratio > 0 ? ratio : (int)Math.Ceiling(rw / outW);
            if ((long)gridH * gridW * bins > MaxBuilt) throw c.NotSupported($"a region of {gridH}×{gridW} samples per bin");
            counts[r] = Math.Max(gridH * gridW, 1);
            var list = taps[r] = [];
            for (int ph = 0; ph < outH; ph++)
                for (int pw = 0; pw < outW; pw++)
                    for (int iy = 0; iy < gridH; iy++)
                        for (int ix = 0; ix < gridW; ix++)
                        {
                            double y = y0 + ph * binH + (iy + 0.5) * binH / gridH, xx = x0 + pw * binW + (ix + 0.5) * binW / gridW;
                            int bin = ph * outW + pw;
                            if (y < -1 || y > h || xx < -1 || xx > w) { list.Add((bin, 0, 0)); continue; }
                            y = Math.Max(y, 0);
                            xx = Math.Max(xx, 0);
                            int yl = (int)y, xl = (int)xx, yh, xh;
                            if (yl >= h - 1) { yh = yl = h - 1; y = yl; } else yh = yl + 1;
                            if (xl >= w - 1) { xh = xl = w - 1; xx = xl; } else xh = xl + 1;
                            double ly = y - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
                            list.Add((bin, yl * w + xl, hy * hx));
                            list.Add((bin, yl * w + xh, hy * lx));
                            list.Add((bin, yh * w + xl, ly * hx));
                            list.Add((bin, yh * w + xh, ly * lx));
                        }
        }
        using var chosen = Tensor.FromArray(batchIndex);
        var features = x.Reshape(n, channels, h * w).IndexSelect(0, chosen.To(x.Device));   // [R, C, H·W]
        int k = Math.Max(1, taps.Max(t => t.Count));
        if (!max)
        {
            // Σ over taps of weight·pixel into its bin, ÷ samples: one gather, one scatter-add
            var pixel = new long[regions * k];
            var bin = new long[regions * k];
            var weight = new double[regions * k];
            for (int r = 0; r < regions; r++)
                for (int t = 0; t < taps[r].Count; t++)
                    (pixel[r * k + t], bin[r * k + t], weight[r * k + t]) = (taps[r][t].Pixel, taps[r][t].Bin, taps[r][t].Weight / counts[r]);
            using var pi = Tensor.FromArray(pixel).Reshape(regions, 1, k);
            using var bi = Tensor.FromArray(bin).Reshape(regions, 1, k);
            using var wt = Tensor.FromArray(weight).Reshape(regions, 1, k);
            var gathered = features.Gather(2, pi.Expand(regions, channels, k).Contiguous().To(x.Device));
            var weighted = gathered * new Variable(wt.To(x.DType).To(x.Device));
            var zeros = new Variable(Tensor.Zeros([regions, channels, bins], x.DType, x.Device));
            return [zeros.ScatterAdd(2, bi.Expand(regions, channels, k).Contiguous().To(x.Device), weighted).Reshape(regions, channels, outH, outW)];
        }
        // max: per region, channel and bin, the largest weighted tap (ONNX Runtime's rule), then that tap as a gather
        var values = features.Data.Contiguous().To(DType.Float64).ToArray<double>();
        var best = new long[regions * channels * bins];
        var bestWeight = new double[best.Length];
        for (int r = 0; r < regions; r++)
            for (int ch = 0; ch < channels; ch++)
            {
                var top = new double[bins];
                Array.Fill(top, double.NegativeInfinity);
                int at = (r * channels + ch) * bins;
                foreach (var (b, p, wgt) in taps[r])
                {
                    double v = wgt * values[((long)r * channels + ch) * h * w + p];
                    if (v > top[b]) { top[b] = v; best[at + b] = p; bestWeight[at + b] = wgt; }
                }
            }
        using var idx = Tensor.FromArray(best).Reshape(regions, channels, bins);
        using var bw = Tensor.FromArray(bestWeight).Reshape(regions, channels, bins);
        var picked = features.Gather(2, idx.To(x.Device));
        return [(picked * new Variable(bw.To(x.DType).To(x.Device))).Reshape(regions, channels, outH, outW)];
    }
}
