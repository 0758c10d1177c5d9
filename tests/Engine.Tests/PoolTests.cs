using FsCheck.Xunit;

namespace Engine.Tests;

/// <summary>Max and average pooling, forward and backward, against direct loops with PyTorch's rules.</summary>
public abstract class PoolTests
{
    public static readonly Pool2dOptions[] Options =
    [
        new(2),
        new(3) { Stride = 2, Padding = 1 },
        new((3, 2)) { Stride = (2, 1), Padding = (1, 0) },
        new(3) { Stride = 2, Padding = new Padding2d(1, 0, 0, 1) },
        new(3) { Stride = 2, CeilMode = true },
        new(3) { Stride = 2, Padding = 1, CeilMode = true },
        new(2) { Dilation = 2, Stride = 1 },
        new(3) { Stride = 1, Padding = 1, CountIncludePad = false },
        new(3) { Stride = 2, Padding = 1, CountIncludePad = false, CeilMode = true },
    ];

    public static TheoryData<int, DType> OptionIndices()
    {
        var d = new TheoryData<int, DType>();
        for (int i = 0; i < Options.Length; i++) { d.Add(i, DType.Float32); d.Add(i, DType.Float64); }
        return d;
    }

    private static int OutSize(int size, int k, int s, int p0, int p1, int d, bool ceil)
    {
        double span = (size + p0 + p1 - d * (k - 1) - 1) / (double)s;
        int o = (int)(ceil ? Math.Ceiling(span) : Math.Floor(span)) + 1;
        if (ceil && (o - 1) * s >= size + p0) o--;
        return o;
    }

    [Theory, MemberData(nameof(OptionIndices))]
    public void Pooling_matches_direct_loops(int index, DType dtype)
    {
        var o = Options[index];
        var rng = new Random(index);
        using var scope = Tensor.Scope();
        int n = 2, c = 3, h = 7, w = 8;
        var stride = o.Stride ?? o.Kernel;
        int oh = OutSize(h, o.Kernel.H, stride.H, o.Padding.Top, o.Padding.Bottom, o.Dilation.H, o.CeilMode);
        int ow = OutSize(w, o.Kernel.W, stride.W, o.Padding.Left, o.Padding.Right, o.Dilation.W, o.CeilMode);
        var x = Data.Uniform(rng, [n, c, h, w], -1, 1, dtype);
        var dy = Data.Uniform(rng, [n, c, oh, ow], -1, 1, dtype);
        var rx = RefArray.Of(x); var rdy = RefArray.Of(dy);
        var max = RefArray.Zeros(n, c, oh, ow); var avg = RefArray.Zeros(n, c, oh, ow);
        var dmax = RefArray.Zeros(n, c, h, w); var davg = RefArray.Zeros(n, c, h, w);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int h0 = i * stride.H - o.Padding.Top, w0 = j * stride.W - o.Padding.Left;
                        double best = double.NegativeInfinity, sum = 0;
                        int bestAt = -1, count = 0, padded = 0;
                        var taps = new List<int>();
                        for (int r = 0; r < o.Kernel.H; r++)
                            for (int s = 0; s < o.Kernel.W; s++)
                            {
                                int ih = h0 + r * o.Dilation.H, iw = w0 + s * o.Dilation.W;
                                if (ih < h + o.Padding.Bottom && iw < w + o.Padding.Right) padded++;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                int f = ((b * c + ch) * h + ih) * w + iw;
                                taps.Add(f);
                                count++;
                                sum += rx.Data[f];
                                if (rx.Data[f] > best) { best = rx.Data[f]; bestAt = f; }
                            }
                        int fo = ((b * c + ch) * oh + i) * ow + j;
                        int divisor = o.CountIncludePad ? padded : count;
                        max.Data[fo] = best;
                        avg.Data[fo] = sum / divisor;
                        dmax.Data[bestAt] += rdy.Data[fo];
                        foreach (int f in taps) davg.Data[f] += rdy.Data[fo] / divisor;
                    }
        var (values, indices) = x.MaxPool2dWithIndices(o);
        Check.Equal(max, values, $"max {index}");
        Check.Equal(max, x.MaxPool2d(o), $"max, values only {index}");
        Check.Equal(avg, x.AvgPool2d(o), $"avg {index}");
        Check.Equal(dmax, Tensor.MaxPool2dBackward(dy, indices, [n, c, h, w], o), $"max backward {index}");
        Check.Equal(davg, Tensor.AvgPool2dBackward(dy, [n, c, h, w], o), $"avg backward {index}");
    }

    [Fact]
    public void Max_pooling_propagates_NaN()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[] { 1, float.NaN, 3, 4 }, 1, 1, 2, 2);
        Assert.True(float.IsNaN(x.MaxPool2d(2).Item<float>()));
    }
}

public sealed class CpuPoolTests : PoolTests
{
    /// <summary>
    /// Float32 max pooling of rows with at least eight interior columns runs eight columns at a time
    /// (MaxPoolRowVector); float64 runs the scalar loop. On integer-valued data (many ties), with NaN and
    /// −∞ sprinkled in, both must give the same maxima and the same indices: the first maximum in
    /// window order, a NaN winning.
    /// </summary>
    [Property(MaxTest = 80)]
    public bool Vectorised_float32_max_pooling_matches_the_scalar_float64_loop(int seed)
    {
        var (o, h, w, values) = RandomCase(seed, minWidth: 8);   // rows wide enough for the vector path
        using var scope = Tensor.Scope();
        var x64 = Tensor.FromArray(values, 2, 3, h, w);
        var x32 = x64.To(DType.Float32);
        var (v64, i64) = x64.MaxPool2dWithIndices(o);
        var (v32, i32) = x32.MaxPool2dWithIndices(o);
        var a = v64.ToArray<double>();
        var b = v32.To(DType.Float64).ToArray<double>();
        return a.Zip(b).All(p => p.First.Equals(p.Second)) && i64.ToArray<long>().SequenceEqual(i32.ToArray<long>());
    }

    /// <summary>
    /// ResNet's max pool (3 wide, stride 2, padding 1 on the left) runs its own horizontal pass, eight outputs at a time from
    /// the even and odd columns; on rows of 3 to 47 columns (vector steps and tails, windows cut on either side) with NaN, −∞
    /// and zeros of both signs, its float32 values equal those of the pooling with indices. (Equal, not bit for bit: pooling
    /// without indices takes each column's maximum over the rows first, so of a window's tied −0 and +0 it can keep the
    /// other one, as before this pass.)
    /// </summary>
    [Property(MaxTest = 80)]
    public bool Three_wide_stride_two_max_pooling_matches_the_pooling_with_indices(int seed)
    {
        var rng = new Random(seed);
        int h = rng.Next(3, 12), w = rng.Next(3, 48);
        var o = new Pool2dOptions(new Size2d(rng.Next(2, 4), 3))
        {
            Stride = new Size2d(rng.Next(1, 3), 2), Padding = new Padding2d(rng.Next(0, 2), 1, rng.Next(0, 2), rng.Next(0, 2)), CeilMode = rng.Next(2) == 0,
        };
        var values = new float[2 * 3 * h * w];
        for (int i = 0; i < values.Length; i++)
            values[i] = rng.Next(12) switch { 0 => float.NaN, 1 => float.NegativeInfinity, 2 => -0f, 3 => 0f, var k => k % 3 - 1 };
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(values, 2, 3, h, w);
        return x.MaxPool2dWithIndices(o).Values.ToArray<float>().SequenceEqual(x.MaxPool2d(o).ToArray<float>());   // float.Equals: NaN equals NaN
    }

    /// <summary>
    /// A random window (kernel 1-4, stride 1-3, dilation 1-2, padding up to half the kernel, either ceil mode) over a
    /// [2, 3, h, w] input of small integers (many ties) with NaN and −∞ sprinkled in.
    /// </summary>
    private static (Pool2dOptions Options, int H, int W, double[] Values) RandomCase(int seed, int minWidth)
    {
        var rng = new Random(seed);
        int kh = rng.Next(1, 5), kw = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
        int dh = rng.Next(1, 3), dw = rng.Next(1, 3);
        int h = rng.Next(dh * (kh - 1) + 1, 20), w = rng.Next(Math.Max(dw * (kw - 1) + 1, minWidth), 48);
        var pad = new Padding2d(rng.Next(0, (kh + 1) / 2), rng.Next(0, (kw + 1) / 2), rng.Next(0, (kh + 1) / 2), rng.Next(0, (kw + 1) / 2));
        var o = new Pool2dOptions(new Size2d(kh, kw)) { Stride = new Size2d(sh, sw), Dilation = new Size2d(dh, dw), Padding = pad, CeilMode = rng.Next(2) == 0 };
        var values = new double[2 * 3 * h * w];
        for (int i = 0; i < values.Length; i++)
            values[i] = rng.Next(50) switch { 0 => double.NaN, 1 => double.NegativeInfinity, var k => k % 5 };
        return (o, h, w, values);
    }

    /// <summary>
    /// Max pooling without indices (inference: <see cref="Tensor.MaxPool2d(Pool2dOptions)"/>, or no gradient recorded) runs
    /// its own vector passes, rows first; on the same data as above (ties, NaN, −∞, windows cut by padding) its values equal
    /// those of the pooling with indices, in either element type.
    /// </summary>
    [Property(MaxTest = 80)]
    public bool Max_pooling_without_indices_gives_the_same_values(int seed)
    {
        var (o, h, w, values) = RandomCase(seed, minWidth: 1);
        using var scope = Tensor.Scope();
        foreach (var x in new[] { Tensor.FromArray(values, 2, 3, h, w), Tensor.FromArray(values, 2, 3, h, w).To(DType.Float32) })
        {
            var withIndices = x.MaxPool2dWithIndices(o).Values.To(DType.Float64).ToArray<double>();
            Variable pooled;
            using (GradMode.NoGrad()) pooled = new Variable(x, requiresGrad: true).MaxPool2d(o);
            if (!withIndices.SequenceEqual(x.MaxPool2d(o).To(DType.Float64).ToArray<double>())
                || !withIndices.SequenceEqual(pooled.Data.To(DType.Float64).ToArray<double>()))
                return false;
        }
        return true;
    }
}
