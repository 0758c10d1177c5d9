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

public sealed class CpuPoolTests : PoolTests;
