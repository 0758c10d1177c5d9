using Engine.Kernels;

namespace Engine.Tests;

/// <summary>Convolution forward and both backward directions against direct seven-loop references.</summary>
public abstract class ConvTests
{
    public sealed record ConvCase(int N, int C, int H, int W, int K, int R, int S, Size2d Stride, Padding2d Padding, Size2d Dilation, int Groups)
    {
        public Conv2dOptions Options => new() { Stride = Stride, Padding = Padding, Dilation = Dilation, Groups = Groups };
        public override string ToString() => $"N{N} C{C} {H}x{W} K{K} {R}x{S} s{Stride} p{Padding} d{Dilation} g{Groups}";
    }

    public static readonly ConvCase[] Cases =
    [
        new(1, 1, 5, 5, 1, 3, 3, 1, 0, 1, 1),
        new(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1),
        new(2, 3, 8, 9, 5, 3, 2, (2, 1), (1, 0), 1, 1),
        new(1, 2, 9, 9, 3, 3, 3, 2, new Padding2d(0, 1, 1, 0), 1, 1),          // asymmetric, like CNTK's exports
        new(2, 4, 10, 8, 6, 3, 3, 1, 2, 2, 1),                                  // dilation
        new(2, 4, 6, 6, 6, 3, 3, 1, 1, 1, 2),                                   // groups
        new(1, 4, 5, 5, 4, 3, 3, 1, 1, 1, 4),                                   // depthwise
        new(3, 5, 6, 7, 4, 1, 1, 1, 0, 1, 1),                                   // pointwise: no im2col
        new(2, 6, 6, 6, 4, 1, 1, 2, 0, 1, 2),                                   // strided pointwise, groups
        new(4, 8, 12, 12, 16, 3, 3, 1, 1, 1, 1),                                // enough work to split over images
        new(1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1),                               // one image: products split instead
        new(2, 3, 4, 4, 2, 5, 5, 1, 2, 1, 1),                                   // kernel larger than input, padded
        new(3, 8, 2, 2, 6, 3, 3, 1, 1, 1, 1),                                   // a ResNet's last stage: 2x2 maps, batched columns
        new(2, 4, 3, 3, 4, 3, 3, 2, 1, 1, 2),                                   // small maps, strided, grouped
        new(3, 4, 4, 4, 6, 3, 3, 1, new Padding2d(2, 1, 0, 2), 2, 1),           // small maps, dilated, asymmetric: 2x3 outputs
        new(2, 3, 2, 2, 4, 1, 1, 1, 1, 1, 1),                                   // small maps, padded 1x1: input gradient by col2im
        new(3, 4, 1, 1, 5, 3, 3, 1, 1, 1, 1),                                   // 1x1 maps: every window covers the whole plane
        new(2, 3, 1, 2, 4, 3, 3, 1, new Padding2d(1, 1, 1, 0), 1, 1),           // the same on a 1x2 map, asymmetric padding
        new(1, 32, 20, 20, 8, 3, 3, 1, 1, 1, 1),                                // a column matrix too big to build whole
        new(1, 32, 47, 47, 8, 3, 3, 2, new Padding2d(1, 0, 0, 1), 1, 2),        // the same, strided, asymmetric, grouped
        new(2, 8, 7, 7, 72, 3, 3, 1, 1, 1, 1),                                  // 64 + 8 output channels: the 512-bit direct kernel's panel and a partial one
        new(2, 4, 4, 4, 128, 3, 3, 2, 1, 1, 2),                                 // two groups of 64 channels on tiny maps: wide direct, not small maps
        new(32, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1),                                  // 512 output pixels of tiny maps: the input gradient as a transposed small-maps convolution
        new(2, 16, 16, 16, 8, 3, 3, 1, 1, 1, 1),                                // 512 output pixels, 16 input channels: the input gradient through the transposed direct kernel
        new(7, 32, 4, 4, 72, 3, 3, 1, 1, 1, 1),                                 // tiny maps, 32 channels: the batched direct kernel skipping the padding; 7 images, a partial block per class
        new(3, 64, 5, 5, 16, 3, 3, 2, 1, 1, 2),                                 // the same strided and grouped, one-vector panels, windows cut on both sides
        new(32, 8, 4, 4, 24, 3, 3, 1, 1, 1, 1),                                 // 512 output pixels, 24 output channels: the input gradient through the batched direct kernel, padding skipped
    ];

    public static TheoryData<int, DType> CaseIndices()
    {
        var d = new TheoryData<int, DType>();
        for (int i = 0; i < Cases.Length; i++) { d.Add(i, DType.Float32); d.Add(i, DType.Float64); }
        return d;
    }

    private static (int OH, int OW) OutSize(ConvCase c) =>
        ((c.H + c.Padding.Top + c.Padding.Bottom - c.Dilation.H * (c.R - 1) - 1) / c.Stride.H + 1,
         (c.W + c.Padding.Left + c.Padding.Right - c.Dilation.W * (c.S - 1) - 1) / c.Stride.W + 1);

    /// <summary>Visits every (output, input, weight) index triple that contributes to the convolution.</summary>
    private static void ForEachTap(ConvCase c, Action<int[], int[], int[]> visit)
    {
        var (oh, ow) = OutSize(c);
        int cg = c.C / c.Groups, kg = c.K / c.Groups;
        for (int n = 0; n < c.N; n++)
            for (int k = 0; k < c.K; k++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        for (int ci = 0; ci < cg; ci++)
                            for (int r = 0; r < c.R; r++)
                                for (int s = 0; s < c.S; s++)
                                {
                                    int ih = i * c.Stride.H - c.Padding.Top + r * c.Dilation.H;
                                    int iw = j * c.Stride.W - c.Padding.Left + s * c.Dilation.W;
                                    if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                                    visit([n, k, i, j], [n, k / kg * cg + ci, ih, iw], [k, ci, r, s]);
                                }
    }

    private static int Flat(int[] idx, int[] shape)
    {
        int f = 0;
        for (int d = 0; d < shape.Length; d++) f = f * shape[d] + idx[d];
        return f;
    }

    public static TheoryData<int, DType, string> CaseIndicesAndPaths()
    {
        var d = new TheoryData<int, DType, string>();
        for (int i = 0; i < Cases.Length; i++)
            foreach (var path in Enum.GetNames<Conv2dAlgorithm>().Prepend("auto"))
            {
                d.Add(i, DType.Float32, path);
                d.Add(i, DType.Float64, path);
            }
        return d;
    }

    private static Conv2dGeometry Geometry(ConvCase c) =>
        new(c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.Stride.H, c.Stride.W, c.Padding.Top, c.Padding.Left, c.Padding.Bottom, c.Padding.Right,
            c.Dilation.H, c.Dilation.W, c.Groups);

    /// <summary>
    /// Every case in every direction through every algorithm that applies to it ("auto": the algorithm Choose names);
    /// where the forced algorithm does not apply in a direction, that direction takes its own choice.
    /// </summary>
    [Theory, MemberData(nameof(CaseIndicesAndPaths))]
    public void Forward_and_backward_match_direct_loops(int caseIndex, DType dtype, string path)
    {
        using var forced = path == "auto" ? null : Conv2dAlgorithms.Force(Enum.Parse<Conv2dAlgorithm>(path));
        CheckCase(caseIndex, dtype);
    }

    /// <summary>
    /// The epilogue (bias, residual, ReLU) applied as outputs are written gives the bits of the separate ops: the product
    /// alone, then + bias broadcast over the channels, + the residual, then ReLU; through every algorithm.
    /// </summary>
    [Theory, MemberData(nameof(CaseIndicesAndPaths))]
    public void Fused_bias_and_relu_give_the_separate_ops_bits(int caseIndex, DType dtype, string path)
    {
        using var forced = path == "auto" ? null : Conv2dAlgorithms.Force(Enum.Parse<Conv2dAlgorithm>(path));
        var c = Cases[caseIndex];
        var rng = new Random(100 + caseIndex);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [c.N, c.C, c.H, c.W], -1, 1, dtype);
        var w = Data.Uniform(rng, [c.K, c.C / c.Groups, c.R, c.S], -1, 1, dtype);
        var bias = Data.Uniform(rng, [c.K], -1, 1, dtype);
        var separate = x.Conv2d(w, null, c.Options) + bias.Reshape(1, c.K, 1, 1);
        var withBias = x.Conv2d(w, bias, c.Options);
        var withRelu = x.Conv2dRelu(w, bias, c.Options);
        var noBiasRelu = x.Conv2dRelu(w, null, c.Options);
        Assert.Equal(Bits(separate), Bits(withBias));
        Assert.Equal(Bits(separate.Relu()), Bits(withRelu));
        Assert.Equal(Bits(x.Conv2d(w, null, c.Options).Relu()), Bits(noBiasRelu));
        var residual = Data.Uniform(rng, separate.Shape.ToArray(), -1, 1, dtype);
        Assert.Equal(Bits((separate + residual).Relu()), Bits(x.Conv2dRelu(w, bias, c.Options, residual)));
        Assert.Contains(Bits(withRelu), v => v > 0);   // not all clipped: the case exercises both sides
    }

    private static double[] Bits(Tensor t) => t.To(DType.Float64).ToArray<double>();

    /// <summary>The direct kernels (forward, weight gradient, and the input gradient through them) with 256-bit vectors on the cases the 512-bit one takes where AVX-512 runs (and the other way round elsewhere).</summary>
    [Theory]
    [InlineData(20, false)]
    [InlineData(21, false)]
    [InlineData(20, true)]
    [InlineData(21, true)]
    public void Direct_kernels_are_right_with_either_vector_width(int caseIndex, bool wide)
    {
        if (wide && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        Assert.True(Cases[caseIndex].K / Cases[caseIndex].Groups >= 64);
        using var width = Gemm.UseWide(wide);
        using var forced = Conv2dAlgorithms.Force(Conv2dAlgorithm.Direct);
        Assert.Equal(wide, DirectConv.Wide<float>(Geometry(Cases[caseIndex])));
        CheckCase(caseIndex, DType.Float32);
        CheckCase(caseIndex, DType.Float64);
    }

    [Fact]
    public void Every_algorithm_is_tested_in_each_direction_it_serves()
    {
        bool avx = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated;   // Direct needs it; the rest run everywhere
        var serves = new Dictionary<ConvDirection, Conv2dAlgorithm[]>
        {
            [ConvDirection.Forward] = [Conv2dAlgorithm.Im2Col, Conv2dAlgorithm.Pointwise, Conv2dAlgorithm.Direct, Conv2dAlgorithm.SmallMaps, Conv2dAlgorithm.WholePlane, Conv2dAlgorithm.DirectBatch],
            [ConvDirection.BackwardInput] = [Conv2dAlgorithm.Im2Col, Conv2dAlgorithm.Pointwise, Conv2dAlgorithm.SmallMaps, Conv2dAlgorithm.TransposedSmallMaps, Conv2dAlgorithm.TransposedDirect, Conv2dAlgorithm.TransposedDirectBatch],
            [ConvDirection.BackwardWeight] = [Conv2dAlgorithm.Im2Col, Conv2dAlgorithm.Pointwise, Conv2dAlgorithm.Direct, Conv2dAlgorithm.SmallMaps],
        };
        foreach (var (direction, algorithms) in serves)
        {
            foreach (var algorithm in Enum.GetValues<Conv2dAlgorithm>())
            {
                bool expected = algorithms.Contains(algorithm) && (avx || algorithm is not (Conv2dAlgorithm.Direct or Conv2dAlgorithm.TransposedDirect or Conv2dAlgorithm.DirectBatch or Conv2dAlgorithm.TransposedDirectBatch));
                int applies = Cases.Count(c => Conv2dAlgorithms.Applies(algorithm, Geometry(c), direction));
                Assert.True(expected == applies > 0, $"{algorithm} {direction}: applies to {applies} cases");
            }
            // the automatic choice itself lands on each algorithm for some case (backward-weight prefers Direct wherever it runs)
            var chosen = Cases.Select(c => Conv2dAlgorithms.Choose(Geometry(c), direction)).ToHashSet();
            var expectChosen = algorithms.Where(a => avx
                ? !(direction == ConvDirection.BackwardWeight && a is Conv2dAlgorithm.Im2Col or Conv2dAlgorithm.Pointwise)
                : a is not (Conv2dAlgorithm.Direct or Conv2dAlgorithm.TransposedDirect or Conv2dAlgorithm.DirectBatch or Conv2dAlgorithm.TransposedDirectBatch));
            Assert.True(expectChosen.All(chosen.Contains), $"{direction}: chosen {string.Join(", ", chosen)}");
        }
    }

    [Fact]
    public void A_forced_algorithm_holds_on_its_own_thread_and_its_workers_only()
    {
        var g = Geometry(Cases[9]);   // 4 images of 12x12: the automatic choice is not SmallMaps
        Assert.NotEqual(Conv2dAlgorithm.SmallMaps, Conv2dAlgorithms.Choose(g, ConvDirection.Forward));
        using (Conv2dAlgorithms.Force(Conv2dAlgorithm.SmallMaps))
        {
            Assert.Equal(Conv2dAlgorithm.SmallMaps, Conv2dAlgorithms.Choose(g, ConvDirection.Forward));
            var other = Conv2dAlgorithm.SmallMaps;
            var thread = new Thread(() => other = Conv2dAlgorithms.Choose(g, ConvDirection.Forward));
            thread.Start();
            thread.Join();
            Assert.NotEqual(Conv2dAlgorithm.SmallMaps, other);
            // the choice a worker thread sees inside this thread's parallel region
            var seen = new Conv2dAlgorithm[64];
            using (CpuBackend.UseThreads(2))
                WorkerPool.Run(seen.Length, i => seen[i] = Conv2dAlgorithms.Choose(g, ConvDirection.Forward));
            Assert.All(seen, a => Assert.Equal(Conv2dAlgorithm.SmallMaps, a));
        }
        Assert.NotEqual(Conv2dAlgorithm.SmallMaps, Conv2dAlgorithms.Choose(g, ConvDirection.Forward));
    }

    private static void CheckCase(int caseIndex, DType dtype)
    {
        var c = Cases[caseIndex];
        var rng = new Random(caseIndex);
        using var scope = Tensor.Scope();
        var (oh, ow) = OutSize(c);
        int[] xs = [c.N, c.C, c.H, c.W], ws = [c.K, c.C / c.Groups, c.R, c.S], ys = [c.N, c.K, oh, ow];
        var x = Data.Uniform(rng, xs, -1, 1, dtype);
        var w = Data.Uniform(rng, ws, -1, 1, dtype);
        var bias = Data.Uniform(rng, [c.K], -1, 1, dtype);
        var dy = Data.Uniform(rng, ys, -1, 1, dtype);
        var rx = RefArray.Of(x); var rw = RefArray.Of(w); var rb = RefArray.Of(bias); var rdy = RefArray.Of(dy);
        var y = RefArray.Zeros(ys); var dx = RefArray.Zeros(xs); var dw = RefArray.Zeros(ws);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = rb.Data[RefArray.Unravel(i, ys)[1]];
        ForEachTap(c, (o, xi, wi) =>
        {
            int fo = Flat(o, ys), fx = Flat(xi, xs), fw = Flat(wi, ws);
            y.Data[fo] += rx.Data[fx] * rw.Data[fw];
            dx.Data[fx] += rdy.Data[fo] * rw.Data[fw];
            dw.Data[fw] += rdy.Data[fo] * rx.Data[fx];
        });
        int taps = c.C / c.Groups * c.R * c.S;
        double tol = dtype == DType.Float32 ? 3e-6 * taps : 1e-13 * taps;
        Check.Equal(y, x.Conv2d(w, bias, c.Options), 0, tol, $"forward {c}");
        Check.Equal(dx, Tensor.Conv2dBackwardInput(dy, w, xs, c.Options), 0, tol, $"backward-input {c}");
        double wtol = (dtype == DType.Float32 ? 3e-6 : 1e-13) * c.N * oh * ow;
        Check.Equal(dw, Tensor.Conv2dBackwardWeight(x, dy, ws, c.Options), 0, wtol, $"backward-weight {c}");
    }

    [Fact]
    public void Convolution_of_non_contiguous_input_equals_that_of_its_copy()
    {
        var rng = new Random(99);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [2, 5, 6, 3], -1, 1).Permute(0, 3, 1, 2);   // [2, 3, 5, 6], not contiguous
        var w = Data.Uniform(rng, [4, 3, 3, 3], -1, 1);
        Assert.False(x.IsContiguous);
        Check.Equal(RefArray.Of(x.Contiguous().Conv2d(w, padding: 1)), x.Conv2d(w, padding: 1), "permuted input");
    }

    [Fact]
    public void Padding2d_from_pad_order_convolves_as_pad_then_unpadded_convolution()
    {
        // Pad's order is F.pad's, last dim first: (left 2, right 0, top 1, bottom 3); Padding2d's
        // constructor is ONNX's (top, left, bottom, right). FromPad and ToPad convert, so both roads agree:
        // a [1, 2, 4, 5] input padded to [1, 2, 8, 7] and a 3x3 kernel give [1, 3, 6, 5].
        var rng = new Random(11);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [1, 2, 4, 5], -1, 1, DType.Float64);
        var w = Data.Uniform(rng, [3, 2, 3, 3], -1, 1, DType.Float64);
        var p = Padding2d.FromPad(left: 2, right: 0, top: 1, bottom: 3);
        Assert.Equal(new Padding2d(Top: 1, Left: 2, Bottom: 3, Right: 0), p);
        Assert.Equal(new[] { 2, 0, 1, 3 }, p.ToPad());
        var viaPad = x.Pad([2, 0, 1, 3]).Conv2d(w);
        var viaConv = x.Conv2d(w, null, new Conv2dOptions { Padding = p });
        Assert.Equal(new[] { 1, 3, 6, 5 }, viaConv.Shape.ToArray());
        Check.Equal(RefArray.Of(viaPad), viaConv, "Padding2d.FromPad");
        var layer = new Engine.Layers.Conv2d(2, 3, 3, padding: p, dtype: DType.Float64, generator: new Generator(3));
        Check.Equal(RefArray.Of(x.Pad(p.ToPad()).Conv2d(layer.Weight.Data, layer.Bias!.Data)), layer.Call(new Variable(x)).Data, "Conv2d layer");
    }
}

public sealed class CpuConvTests : ConvTests;
