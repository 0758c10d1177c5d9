namespace Engine.Onnx;

// 3-D convolution, transposed convolution and pooling on the engine's 2-D kernels: the depth axis is
// walked here (one 2-D op per output depth and kernel tap, summed or max'd), so every path trains.
internal static partial class OnnxOps
{
    /// <summary>A 3-D op's attributes: kernel, strides, dilations and pads per axis (depth, height, width), auto_pad resolved.</summary>
    private readonly record struct Box(int[] Kernel, int[] Stride, int[] Dilation, int[] Begin, int[] End);

    private static Box BoxOf(OnnxCall c, Variable x, long[] kernel, bool transposed = false, long[]? outputShape = null, long[]? outputPadding = null)
    {
        int[] Attr(string name, int fallback, int count)
        {
            var v = c.Ints(name);
            if (v is null) return [.. Enumerable.Repeat(fallback, count)];
            if (v.Length != count) throw c.Error($"{name} must have {count} values, not {v.Length}");
            return [.. v.Select(q => q is >= 0 and <= OnnxChecks.MaxExtent ? (int)q : throw c.Error($"{name} value {q} is outside 0 to {OnnxChecks.MaxExtent}"))];
        }
        if (kernel.Length != 3 || kernel.Any(k => k < 1 || k > OnnxChecks.MaxExtent)) throw c.Error($"kernel [{string.Join(", ", kernel)}] is not 3 sizes");
        var k = kernel.Select(v => (int)v).ToArray();
        var s = Attr("strides", 1, 3);
        var d = Attr("dilations", 1, 3);
        if (s.Concat(d).Any(v => v < 1)) throw c.Error("strides and dilations must be at least 1");
        var begin = new int[3];
        var end = new int[3];
        string auto = c.String("auto_pad", "NOTSET");
        if (auto is "NOTSET" or "")
        {
            var p = Attr("pads", 0, 6);
            (begin, end) = (p[..3], p[3..]);
        }
        else if (auto is "SAME_UPPER" or "SAME_LOWER")
            for (int i = 0; i < 3; i++)
            {
                long size = x.Shape[2 + i], span = (long)(k[i] - 1) * d[i] + 1, total;
                if (transposed) total = Math.Max(s[i] * (size - 1) + (outputPadding?[i] ?? 0) + span - (outputShape?[i] ?? size * s[i]), 0);
                else total = Math.Max(((size + s[i] - 1) / s[i] - 1) * s[i] + span - size, 0);
                int small = (int)(total / 2), large = (int)total - small;
                (begin[i], end[i]) = auto == "SAME_LOWER" ? (large, small) : (small, large);
            }
        else if (auto != "VALID") throw c.Error($"auto_pad '{auto}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        return new Box(k, s, d, begin, end);
    }

    /// <summary>x padded along the depth axis (2) with <paramref name="value"/>.</summary>
    private static Variable PadDepth(Variable x, int before, int after, double value)
    {
        if (before == 0 && after == 0) return x;
        var pads = new int[2 * x.Rank];
        pads[2 * (x.Rank - 3)] = before;
        pads[2 * (x.Rank - 3) + 1] = after;
        return x.Pad(pads, value);
    }

    private static Variable Conv3d(OnnxCall c, Variable x, Variable w, Variable? b)
    {
        int group = c.Int("group", 1);
        if (group < 1 || x.Shape[1] != w.Shape[1] * group)
            throw c.Error($"the input {Errors.Shape(x.Shape)} has {x.Shape[1]} channels but the weights {Errors.Shape(w.Shape)} with group {group} take {w.Shape[1] * group}");
        var box = BoxOf(c, x, c.Ints("kernel_shape") ?? [.. w.Shape[2..].ToArray().Select(v => (long)v)]);
        var options = new Conv2dOptions
        {
            Stride = new(box.Stride[1], box.Stride[2]), Dilation = new(box.Dilation[1], box.Dilation[2]), Groups = group,
            Padding = new Padding2d(box.Begin[1], box.Begin[2], box.End[1], box.End[2]),
        };
        var padded = PadDepth(x, box.Begin[0], box.End[0], 0);
        int depth = padded.Shape[2], span = (box.Kernel[0] - 1) * box.Dilation[0] + 1;
        int outDepth = depth < span ? 0 : (depth - span) / box.Stride[0] + 1;
        if (outDepth == 0) throw c.Error($"the kernel's depth {span} exceeds the padded input's {depth}");
        var taps = Enumerable.Range(0, box.Kernel[0]).Select(k => w.Select(2, k)).ToArray();
        var slices = new Variable[outDepth];
        for (int od = 0; od < outDepth; od++)
        {
            Variable? sum = null;
            for (int k = 0; k < box.Kernel[0]; k++)
            {
                var y = padded.Select(2, od * box.Stride[0] + k * box.Dilation[0]).Conv2d(taps[k], null, options);
                sum = sum is null ? y : sum + y;
            }
            slices[od] = sum!;
        }
        var result = Variable.Stack(slices, 2);
        return b is null ? result : result + b.Reshape(-1, 1, 1, 1);
    }

    private static Variable ConvTranspose3d(OnnxCall c, Variable x, Variable w, Variable? b)
    {
        int group = c.Int("group", 1);
        if (group < 1 || x.Shape[1] != w.Shape[0] || w.Shape[0] % group != 0)
            throw c.Error($"the input {Errors.Shape(x.Shape)} has {x.Shape[1]} channels but the weights {Errors.Shape(w.Shape)} take {w.Shape[0]} (group {group})");
        var outputPadding = c.Ints("output_padding");
        var outputShape = c.Ints("output_shape") is { } os ? os[^3..] : null;
        var box = BoxOf(c, x, c.Ints("kernel_shape") ?? [.. w.Shape[2..].ToArray().Select(v => (long)v)], transposed: true, outputShape, outputPadding);
        int Out(int i) => outputShape is not null ? (int)outputShape[i]
            : box.Stride[i] * (x.Shape[2 + i] - 1) + (int)(outputPadding?[i] ?? 0) + (box.Kernel[i] - 1) * box.Dilation[i] + 1 - box.Begin[i] - box.End[i];
        int od = Out(0), oh = Out(1), ow = Out(2), channels = w.Shape[1] * group;
        var options = new Conv2dOptions
        {
            Stride = new(box.Stride[1], box.Stride[2]), Dilation = new(box.Dilation[1], box.Dilation[2]), Groups = group,
            Padding = new Padding2d(box.Begin[1], box.Begin[2], box.End[1], box.End[2]),
        };
        // input depth i and kernel tap k write output depth i·s + k·d − begin
        var slices = new List<Variable>[od];
        for (int i = 0; i < x.Shape[2]; i++)
            for (int k = 0; k < box.Kernel[0]; k++)
            {
                int at = i * box.Stride[0] + k * box.Dilation[0] - box.Begin[0];
                if (at < 0 || at >= od) continue;
                (slices[at] ??= []).Add(x.Select(2, i).ConvTranspose2d(w.Select(2, k), null, [x.Shape[0], channels, oh, ow], options));
            }
        var zero = new Variable(Tensor.Zeros([x.Shape[0], channels, oh, ow], x.DType, x.Device));
        var result = Variable.Stack([.. slices.Select(list => list is null ? zero : list.Aggregate((p, q) => p + q))], 2);
        return b is null ? result : result + b.Reshape(-1, 1, 1, 1);
    }

    private static Variable Pool3d(OnnxCall c, Variable x, bool max)
    {
        var box = BoxOf(c, x, c.Node.RequiredInts("kernel_shape"));
        if (!max && box.Dilation.Any(v => v != 1)) throw c.NotSupported("AveragePool with dilations");
        bool ceil = c.Int("ceil_mode", 0) != 0, include = c.Int("count_include_pad", 0) != 0;
        // each depth window: 2-D pools of its slices, combined; pads beyond half the window are added first
        var plane = new Pool2dOptions(new Size2d(box.Kernel[1], box.Kernel[2]))
        {
            Stride = new Size2d(box.Stride[1], box.Stride[2]), Dilation = new Size2d(box.Dilation[1], box.Dilation[2]), CeilMode = ceil,
            CountIncludePad = true,
        };
        var p2 = new Padding2d(box.Begin[1], box.Begin[2], box.End[1], box.End[2]);
        int depth = x.Shape[2];
        var padded = PadDepth(x, box.Begin[0], box.End[0], max ? double.NegativeInfinity : 0);
        // the plane's padding applied first, as values (−∞ for max, 0 for avg) so any pad size works
        var flat = padded.Permute(0, 2, 1, 3, 4).Contiguous();
        var shape = flat.Shape.ToArray();
        var as4 = flat.Reshape(shape[0] * shape[1], shape[2], shape[3], shape[4]);
        as4 = as4.Pad(p2.ToPad(), max ? double.NegativeInfinity : 0);
        var pooled = max ? as4.MaxPool2d(plane) : as4.AvgPool2d(plane);
        // the average's divisor per plane position: taps inside the real (unpadded) input, or all of the window
        Variable? planeCount = null;
        if (!max && !include)
        {
            using var ones = Tensor.Ones([1, 1, x.Shape[3], x.Shape[4]], x.DType, x.Device);
            planeCount = new Variable(ones).Pad(p2.ToPad()).AvgPool2d(plane);
        }
        var planes = pooled.Reshape(shape[0], shape[1], shape[2], pooled.Shape[2], pooled.Shape[3]);
        int span = (box.Kernel[0] - 1) * box.Dilation[0] + 1, total = padded.Shape[2];
        int outDepth = ceil ? (int)Math.Ceiling((double)(total - span) / box.Stride[0]) + 1 : (total - span) / box.Stride[0] + 1;
        // a ceil-mode window must start inside the input or its left padding
        if (ceil && (outDepth - 1) * box.Stride[0] >= depth + box.Begin[0]) outDepth--;
        var slices = new Variable[outDepth];
        for (int od = 0; od < outDepth; od++)
        {
            Variable? acc = null;
            int real = 0;
            for (int k = 0; k < box.Kernel[0]; k++)
            {
                int at = od * box.Stride[0] + k * box.Dilation[0];
                if (at >= total) break;
                if (at >= box.Begin[0] && at < box.Begin[0] + depth) real++;
                var s = planes.Select(1, at);
                acc = acc is null ? s : max ? acc.Maximum(s) : acc + s;
            }
            if (!max)
            {
                if (include) acc = acc! / box.Kernel[0];
                else acc = acc! / (planeCount! * Math.Max(real, 1));
            }
            slices[od] = acc!;
        }
        return Variable.Stack(slices, 2);
    }
}
