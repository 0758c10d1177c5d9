namespace Engine.Onnx;

// Ops of detection and signal models: NonMaxSuppression, Unique, ReverseSequence, MaxUnpool and the
// window functions. Index results are int64 constants; values are selected with IndexSelect or
// Gather, so gradients reach them.
internal static partial class OnnxOps
{
    private static void RegisterMisc(Dictionary<string, OpDef> ops)
    {
        ops["HannWindow"] = new(c => WindowFunction(c, (n, size) => 0.5 - 0.5 * Math.Cos(2 * Math.PI * n / size)));
        ops["HammingWindow"] = new(c => WindowFunction(c, (n, size) => 25.0 / 46 - 21.0 / 46 * Math.Cos(2 * Math.PI * n / size)));
        ops["BlackmanWindow"] = new(c => WindowFunction(c, (n, size) => 0.42 - 0.5 * Math.Cos(2 * Math.PI * n / size) + 0.08 * Math.Cos(4 * Math.PI * n / size)));
        ops["ReverseSequence"] = new(ReverseSequence);
        ops["MaxUnpool"] = new(MaxUnpool, Refuse: RefuseSpatial);
        ops["NonMaxSuppression"] = new(NonMaxSuppression);
        ops["Unique"] = new(Unique);
        ops["TfIdfVectorizer"] = new(TfIdfVectorizer);
        ops["MelWeightMatrix"] = new(MelWeightMatrix);
    }

    /// <summary>A window of the scalar input's length: w(n, N) with N the length (periodic, the default) or the length − 1 (symmetric).</summary>
    private static Variable[] WindowFunction(OnnxCall c, Func<double, double, double> w)
    {
        double length = c.Scalar(0) ?? throw c.Error("the size input is missing");
        if (length < 0 || length > MaxBuilt) throw c.Error($"size {length} is not a window length (0 to {MaxBuilt})");
        int n = (int)length;
        double size = c.Int("periodic", 1) != 0 ? n : n - 1;
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = w(i, size);
        DType dtype = c.Node.Attribute("output_datatype") is { } a ? DTypeOf(c.Node, a) : DType.Float32;
        using var t = Tensor.FromArray(values);
        return [Constant(t.To(dtype))];
    }

    private static Variable[] ReverseSequence(OnnxCall c)
    {
        var x = c.X(0);
        var lengths = c.RequiredLongs(1, "sequence_lens");
        int time = c.Axis(c.Long("time_axis", 0), x.Rank), batch = c.Axis(c.Long("batch_axis", 1), x.Rank);
        if (time == batch || time > 1 || batch > 1) throw c.Error($"time_axis {time} and batch_axis {batch} must be 0 and 1 in some order");
        int steps = x.Shape[time], count = x.Shape[batch];
        if (lengths.Length != count) throw c.Error($"sequence_lens has {lengths.Length} values for a batch of {count}");
        // for each (t, b): the first lengths[b] steps reversed, the rest kept
        var index = new long[steps * count];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < count; b++)
            {
                long len = lengths[b];
                if (len < 0 || len > steps) throw c.Error($"sequence length {len} is outside 0 to {steps}");
                int at = time == 0 ? t * count + b : b * steps + t;
                index[at] = t < len ? len - 1 - t : t;
            }
        int[] shape = [.. x.Shape.ToArray().Select((d, i) => i < 2 ? d : 1)];
        using var small = Tensor.FromArray(index).Reshape(shape);
        var full = small.Expand([.. x.Shape]).Contiguous().To(x.Device);
        return [x.DType.IsFloating() ? x.Gather(time, full) : Constant(x.Data.Gather(time, full))];
    }

    private static Variable[] MaxUnpool(OnnxCall c)
    {
        var x = c.X(0);
        var indices = c.X(1).Data;
        if (x.Rank != 4) throw c.NotSupported($"a {x.Rank - 2}-D MaxUnpool (2-D is)");
        if (!indices.Shape.SequenceEqual(x.Shape)) throw c.Error($"indices {Errors.Shape(indices.Shape)} and input {Errors.Shape(x.Shape)} differ");
        var k = c.Node.RequiredInts("kernel_shape");
        var window = WindowOf(c, x, 2, k);
        // the indices count positions in the pooled input's shape (what the output is without output_shape)
        var p = window.Padding;
        int[] natural = [x.Shape[0], x.Shape[1],
            (x.Shape[2] - 1) * window.Stride.H + window.Kernel.H - p.Top - p.Bottom,
            (x.Shape[3] - 1) * window.Stride.W + window.Kernel.W - p.Left - p.Right];
        int[] shape = natural;
        if (c.Longs(2) is { } given)
        {
            if (given.Length != 4) throw c.Error($"output_shape has {given.Length} values; 4 are needed");
            shape = Sizes(c, given, "output_shape");
        }
        if (shape[0] != x.Shape[0] || shape[1] != x.Shape[1]) throw c.Error($"output_shape {Errors.Shape(shape)} changes N or C of {Errors.Shape(x.Shape)}");
        if (natural[2] < 1 || natural[3] < 1) throw c.Error($"the unpooled plane would be {natural[2]}×{natural[3]}");
        long planeIn = (long)natural[2] * natural[3], planeOut = (long)shape[2] * shape[3], total = (long)shape[0] * shape[1] * planeOut;
        if (total > int.MaxValue) throw c.NotSupported($"an output of {total} values");
        var at = indices.To(DType.Int64).Contiguous().ToArray<long>();
        for (int i = 0; i < at.Length; i++)
        {
            long v = at[i], plane = v / planeIn, rest = v % planeIn, h = rest / natural[3], w = rest % natural[3];
            if (v < 0 || plane >= (long)shape[0] * shape[1] || h >= shape[2] || w >= shape[3])
                throw c.Error($"index {v} lies outside the output {Errors.Shape(shape)}");
            at[i] = plane * planeOut + h * shape[3] + w;
        }
        using var flat = Tensor.FromArray(at);
        var zeros = new Variable(Tensor.Zeros([(int)total], x.DType, x.Device));
        return [zeros.ScatterAdd(0, flat.To(x.Device), x.Reshape(-1)).Reshape(shape)];
    }

    private static Variable[] NonMaxSuppression(OnnxCall c)
    {
        var boxes = c.X(0).Data;
        var scores = c.X(1).Data;
        if (boxes.Rank != 3 || boxes.Shape[2] != 4) throw c.Error($"boxes must be [batches, boxes, 4], not {Errors.Shape(boxes.Shape)}");
        if (scores.Rank != 3 || scores.Shape[0] != boxes.Shape[0] || scores.Shape[2] != boxes.Shape[1])
            throw c.Error($"scores {Errors.Shape(scores.Shape)} do not match boxes {Errors.Shape(boxes.Shape)} ([batches, classes, boxes])");
        long limit = c.Longs(2) is [var m, ..] ? m : 0;
        double iouThreshold = c.Scalar(3) ?? 0;
        double? scoreThreshold = c.Scalar(4);
        bool center = c.Int("center_point_box", 0) != 0;
        int batches = boxes.Shape[0], count = boxes.Shape[1], classes = scores.Shape[1];
        var b = boxes.Contiguous().To(DType.Float64).ToArray<double>();
        var s = scores.Contiguous().To(DType.Float64).ToArray<double>();
        // corners (y1, x1, y2, x2) with y1 ≤ y2 and x1 ≤ x2
        var corners = new double[b.Length];
        for (int i = 0; i < batches * count; i++)
        {
            double p0 = b[4 * i], p1 = b[4 * i + 1], p2 = b[4 * i + 2], p3 = b[4 * i + 3];
            if (center) (corners[4 * i], corners[4 * i + 1], corners[4 * i + 2], corners[4 * i + 3]) = (p1 - p3 / 2, p0 - p2 / 2, p1 + p3 / 2, p0 + p2 / 2);
            else (corners[4 * i], corners[4 * i + 1], corners[4 * i + 2], corners[4 * i + 3]) = (Math.Min(p0, p2), Math.Min(p1, p3), Math.Max(p0, p2), Math.Max(p1, p3));
        }
        double Iou(int batch, int i, int j)
        {
            int a = 4 * (batch * count + i), o = 4 * (batch * count + j);
            double h = Math.Min(corners[a + 2], corners[o + 2]) - Math.Max(corners[a], corners[o]);
            double w = Math.Min(corners[a + 3], corners[o + 3]) - Math.Max(corners[a + 1], corners[o + 1]);
            if (h <= 0 || w <= 0) return 0;
            double inter = h * w;
            double areaA = (corners[a + 2] - corners[a]) * (corners[a + 3] - corners[a + 1]);
            double areaO = (corners[o + 2] - corners[o]) * (corners[o + 3] - corners[o + 1]);
            double union = areaA + areaO - inter;
            return union <= 0 ? 0 : inter / union;
        }
        var selected = new List<long>();
        if (limit > 0)
            for (int batch = 0; batch < batches; batch++)
                for (int cls = 0; cls < classes; cls++)
                {
                    int row = (batch * classes + cls) * count;
                    var order = Enumerable.Range(0, count).Where(i => scoreThreshold is not { } t || s[row + i] > t)
                        .OrderByDescending(i => s[row + i]).ThenBy(i => i).ToList();
                    var kept = new List<int>();
                    foreach (int i in order)
                    {
                        if (kept.Count >= limit) break;
                        if (kept.Any(j => Iou(batch, i, j) > iouThreshold)) continue;
                        kept.Add(i);
                        selected.AddRange([batch, cls, i]);
                    }
                }
        return [Constant(Tensor.FromArray(selected.ToArray()).Reshape(selected.Count / 3, 3))];
    }

    private static Variable[] Unique(OnnxCall c)
    {
        var x = c.X(0);
        bool sorted = c.Int("sorted", 1) != 0;
        bool hasAxis = c.Has("axis");
        var input = hasAxis ? x : x.Reshape(-1);
        int axis = hasAxis ? c.Axis(c.Long("axis", 0), x.Rank) : 0;
        int n = input.Shape[axis];
        // each slice along the axis as a row of doubles, compared lexicographically
        var moved = input.Data.Transpose(0, axis).Contiguous();
        using var d = moved.To(DType.Float64);
        var values = d.ToArray<double>();
        int width = n == 0 ? 0 : values.Length / n;
        int Compare(int i, int j)
        {
            for (int k = 0; k < width; k++)
            {
                int r = values[i * width + k].CompareTo(values[j * width + k]);
                if (r != 0) return r;
            }
            return 0;
        }
        // rows sorted (ties by position): each run of equal rows is one unique value, first seen at its lowest position
        var byValue = Enumerable.Range(0, n).ToArray();
        Array.Sort(byValue, (i, j) => Compare(i, j) is var r && r != 0 ? r : i.CompareTo(j));
        var firstOf = new List<int>();
        var counts = new List<long>();
        var group = new long[n];
        for (int k = 0; k < n; k++)
        {
            if (k == 0 || Compare(byValue[k - 1], byValue[k]) != 0) { firstOf.Add(byValue[k]); counts.Add(0); }
            group[byValue[k]] = firstOf.Count - 1;
            counts[^1]++;
        }
        // sorted: in value order (as grouped); otherwise in order of first appearance
        var order = Enumerable.Range(0, firstOf.Count).ToList();
        if (!sorted) order.Sort((p, q) => firstOf[p].CompareTo(firstOf[q]));
        var rank = new long[order.Count];
        for (int k = 0; k < order.Count; k++) rank[order[k]] = k;
        var inverse = group;
        long[] first = [.. order.Select(k => (long)firstOf[k])];
        var y = Take(input, axis, Tensor.FromArray(first));
        return
        [
            y,
            Constant(Tensor.FromArray(first)),
            Constant(Tensor.FromArray(inverse.Select(v => rank[v]).ToArray())),
            Constant(Tensor.FromArray(order.Select(k => counts[k]).ToArray())),
        ];
    }
}

// TfIdfVectorizer: n-gram counts (with skips) of integer token rows, weighted per mode.
internal static partial class OnnxOps
{
    private static Variable[] TfIdfVectorizer(OnnxCall c)
    {
        var x = c.X(0).Data;
        if (!x.DType.IsInteger() || x.Rank is not (1 or 2)) throw c.Error($"the input must be [C] or [N, C] integers, not {Errors.Shape(x.Shape)} {x.DType.Name()}");
        int minN = c.Int("min_gram_length", 1), maxN = c.Int("max_gram_length", 1), maxSkip = c.Int("max_skip_count", 0);
        string mode = c.String("mode", "TF");
        var pool = c.Ints("pool_int64s") ?? throw c.NotSupported("a TfIdfVectorizer without pool_int64s (string pools)");
        var starts = c.Ints("ngram_counts") ?? throw c.Error("attribute 'ngram_counts' is required");
        var indexes = c.Ints("ngram_indexes") ?? throw c.Error("attribute 'ngram_indexes' is required");
        var weights = c.Floats("weights");
        if (minN < 1 || maxN < minN || maxSkip < 0 || mode is not ("TF" or "IDF" or "TFIDF"))
            throw c.Error($"min_gram_length {minN}, max_gram_length {maxN}, max_skip_count {maxSkip}, mode '{mode}'");
        // the pool's n-grams: those of length n start at ngram_counts[n − 1]
        var lookup = new Dictionary<string, int>();
        int gram = 0;
        for (int n = 1; n <= starts.Length; n++)
        {
            long from = starts[n - 1], to = n < starts.Length ? starts[n] : pool.Length;
            if (from < 0 || to > pool.Length || from > to || (to - from) % n != 0) throw c.Error($"ngram_counts [{string.Join(", ", starts)}] do not cut the pool of {pool.Length} into n-grams");
            for (long p = from; p < to; p += n, gram++)
                lookup[$"{n}:{string.Join(",", pool[(int)p..(int)(p + n)])}"] = gram;
        }
        if (indexes.Length != gram) throw c.Error($"ngram_indexes has {indexes.Length} entries for {gram} n-grams");
        if (weights is not null && weights.Length != gram) throw c.Error($"weights has {weights.Length} entries for {gram} n-grams");
        int width = indexes.Length == 0 ? 0 : (int)indexes.Max() + 1;
        if (indexes.Any(i => i < 0) || width > MaxBuilt) throw c.Error("ngram_indexes must be non-negative and small");
        int rows = x.Rank == 1 ? 1 : x.Shape[0], length = x.Shape[^1];
        var tokens = x.To(DType.Int64).Contiguous().ToArray<long>();
        var counts = new double[rows * width];
        for (int r = 0; r < rows; r++)
            for (int n = minN; n <= maxN; n++)
                for (int skip = 0; skip <= (n == 1 ? 0 : maxSkip); skip++)
                    for (int i = 0; i + (long)(n - 1) * (skip + 1) < length; i++)
                    {
                        var key = $"{n}:{string.Join(",", Enumerable.Range(0, n).Select(k => tokens[r * length + i + k * (skip + 1)]))}";
                        if (lookup.TryGetValue(key, out int g)) counts[r * width + indexes[g]] += 1;
                    }
        var weightOf = new double[width];
        Array.Fill(weightOf, 1.0);
        if (weights is not null) for (int g = 0; g < gram; g++) weightOf[indexes[g]] = weights[g];
        for (int i = 0; i < counts.Length; i++)
        {
            double w = weightOf[i % Math.Max(width, 1)];
            counts[i] = mode switch { "TF" => counts[i], "IDF" => counts[i] > 0 ? w : 0, _ => counts[i] * w };
        }
        using var result = Tensor.FromArray(counts).Reshape(x.Rank == 1 ? [width] : [rows, width]);
        return [Constant(result.To(DType.Float32))];
    }
}

// MelWeightMatrix: triangular mel filters over the DFT bins, as ONNX's reference builds them.
internal static partial class OnnxOps
{
    private static Variable[] MelWeightMatrix(OnnxCall c)
    {
        long mels = (long)(c.Scalar(0) ?? throw c.Error("num_mel_bins is required"));
        long dft = (long)(c.Scalar(1) ?? throw c.Error("dft_length is required"));
        double rate = c.Scalar(2) ?? throw c.Error("sample_rate is required");
        double low = c.Scalar(3) ?? 0, high = c.Scalar(4) ?? rate / 2;
        if (mels < 1 || dft < 1 || rate <= 0 || (dft / 2 + 1) * mels > MaxBuilt || low < 0 || high <= low)
            throw c.Error($"num_mel_bins {mels}, dft_length {dft}, sample_rate {rate}, edges {low} to {high}");
        int bins = (int)(dft / 2 + 1), m = (int)mels;
        static double Mel(double hz) => 2595 * Math.Log10(1 + hz / 700);
        double lowMel = Mel(low), step = (Mel(high) - lowMel) / (m + 2);
        // the m + 2 edges on the mel scale, back in hertz, then as DFT bin numbers (rounded down)
        var edge = new long[m + 2];
        for (int i = 0; i < edge.Length; i++)
        {
            double hz = 700 * (Math.Pow(10, (i * step + lowMel) / 2595) - 1);
            edge[i] = (long)Math.Floor((dft + 1) * hz / rate);
        }
        var w = new double[bins * m];
        for (int i = 0; i < m; i++)
        {
            long left = edge[i], center = edge[i + 1], right = edge[i + 2];
            if (center == left) { if (center >= 0 && center < bins) w[center * m + i] = 1; }
            else for (long j = left; j <= center; j++) if (j >= 0 && j < bins) w[j * m + i] = (double)(j - left) / (center - left);
            if (right > center) for (long j = center; j < right; j++) if (j >= 0 && j < bins) w[j * m + i] = (double)(right - j) / (right - center);
        }
        DType dtype = c.Node.Attribute("output_datatype") is { } a ? DTypeOf(c.Node, a) : DType.Float32;
        using var t = Tensor.FromArray(w).Reshape(bins, m);
        return [Constant(t.To(dtype))];
    }
}
