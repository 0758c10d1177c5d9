namespace Engine.Tests;

/// <summary>Reductions, arg-reductions and the softmax family against float64 references.</summary>
public abstract class ReduceTests
{
    public static TheoryData<DType> FloatTypes() => [DType.Float32, DType.Float64];
    public static TheoryData<DType> NumericTypes() => [DType.Float32, DType.Float64, DType.Int32, DType.Int64];

    private static IEnumerable<int[]> AxisSets(int rank)
    {
        for (int mask = 0; mask < 1 << rank; mask++)
            yield return [.. Enumerable.Range(0, rank).Where(d => (mask >> d & 1) != 0)];
    }

    private static Tensor Input(Random rng, int[] shape, DType dtype) =>
        dtype.IsFloating() ? Data.Uniform(rng, shape, -2, 2, dtype) : Data.Ints(rng, shape, -50, 50, dtype);

    /// <summary>Float32 sums are compared with a tolerance relative to Σ|x| (rounding scales with it).</summary>
    private static void CheckSum(RefArray expected, RefArray absSum, Tensor actual, string what)
    {
        var got = RefArray.Of(actual).Data;
        double rtol = actual.DType == DType.Float32 ? 2e-6 : 1e-12;
        Assert.Equal(expected.Data.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - expected.Data[i]) <= rtol * absSum.Data[i] + 1e-12,
                $"{what} element {i}: expected {expected.Data[i]:R}, got {got[i]:R}");
    }

    [Theory, MemberData(nameof(NumericTypes))]
    public void Sum_max_min_over_every_axis_set(DType dtype)
    {
        var rng = new Random(1);
        using var scope = Tensor.Scope();
        foreach (var shape in new[] { new[] { 3, 4, 5 }, [2, 1, 6], [7], [] })
        {
            var x = Input(rng, shape, dtype);
            var rx = RefArray.Of(x);
            foreach (var axes in AxisSets(shape.Length))
            {
                var reduced = axes.Length == 0 ? [.. Enumerable.Range(0, shape.Length)] : axes;
                var sum = rx.Reduce(reduced, v => v.Sum());
                CheckSum(sum, rx.Map(Math.Abs).Reduce(reduced, v => v.Sum()), x.Sum(axes, keepDim: true), $"Sum {Errors.Shape(shape)} axes ({string.Join(",", axes)})");
                Check.Equal(rx.Reduce(reduced, v => v.Max()), x.Max(axes, keepDim: true), $"Max axes ({string.Join(",", axes)})");
                Check.Equal(rx.Reduce(reduced, v => v.Min()), x.Min(axes, keepDim: true), $"Min axes ({string.Join(",", axes)})");
                var dropped = x.Sum(axes);
                Assert.Equal(shape.Length - reduced.Length, dropped.Rank);
            }
        }
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Reductions_of_large_and_strided_inputs(DType dtype)
    {
        var rng = new Random(2);
        using var scope = Tensor.Scope();
        var big = Input(rng, [513, 700], dtype);                 // above the parallel threshold
        var rb = RefArray.Of(big);
        foreach (var axes in new[] { new[] { 0 }, [1], [0, 1] })
        {
            CheckSum(rb.Reduce(axes, v => v.Sum()), rb.Map(Math.Abs).Reduce(axes, v => v.Sum()), big.Sum(axes, true), $"Sum big ({string.Join(",", axes)})");
            Check.Equal(rb.Reduce(axes, v => v.Max()), big.Max(axes, true), "Max big");
        }
        var t = big.T;                                             // kept innermost not contiguous
        var rt = RefArray.Of(t);
        CheckSum(rt.Reduce([0], v => v.Sum()), rt.Map(Math.Abs).Reduce([0], v => v.Sum()), t.Sum([0], true), "Sum of transpose axis 0");
        CheckSum(rt.Reduce([1], v => v.Sum()), rt.Map(Math.Abs).Reduce([1], v => v.Sum()), t.Sum([1], true), "Sum of transpose axis 1");
        var strided = big.Slice(1, 0, 700, 3);
        var rs = RefArray.Of(strided);
        CheckSum(rs.Reduce([1], v => v.Sum()), rs.Map(Math.Abs).Reduce([1], v => v.Sum()), strided.Sum([1], true), "Sum of strided rows");
        var longRow = Input(rng, [400_001], dtype);
        var rl = RefArray.Of(longRow);
        CheckSum(rl.Reduce([0], v => v.Sum()), rl.Map(Math.Abs).Reduce([0], v => v.Sum()), longRow.Sum([0], true), "Sum of one long row");
        Check.Equal(rl.Reduce([0], v => v.Max()), longRow.Max([0], true), "Max of one long row");
    }

    [Fact]
    public void Sum_of_bool_and_int32_is_int64()
    {
        using var scope = Tensor.Scope();
        var b = Tensor.FromArray(new[] { true, false, true, true });
        Assert.Equal(DType.Int64, b.Sum().DType);
        Assert.Equal(3L, b.Sum().Item<long>());
        Assert.Equal(10L, Tensor.FromArray(new[] { 1, 2, 3, 4 }).Sum().Item<long>());
    }

    [Fact]
    public void Empty_reductions_sum_to_zero_and_max_is_an_error()
    {
        using var scope = Tensor.Scope();
        var e = Tensor.Zeros(0, 3);
        Assert.Equal(new float[] { 0, 0, 0 }, e.Sum(0).ToArray<float>());
        Assert.Equal(new int[] { 0 }, e.Sum(1).Shape.ToArray());
        var ex = Assert.Throws<ShapeException>(() => e.Max(0));
        Assert.Contains("Max: [0, 3]", ex.Message);
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void NaN_propagates_through_sum_max_min(DType dtype)
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new[] { 1.0, double.NaN, -3.0, 2.0 }).To(dtype);
        Assert.True(double.IsNaN(x.Sum().Item<double>()));
        Assert.True(double.IsNaN(x.Max().Item<double>()));
        Assert.True(double.IsNaN(x.Min().Item<double>()));
        var big = Tensor.Zeros([100_000], dtype);
        big.Narrow(0, 77_777, 1).FillInPlace(double.NaN);
        Assert.True(double.IsNaN(big.Max().Item<double>()));
        Assert.True(double.IsNaN(big.Sum().Item<double>()));
        var inf = Tensor.FromArray(new[] { 1.0, double.PositiveInfinity }).To(dtype);
        Assert.Equal(double.PositiveInfinity, inf.Sum().Item<double>());
    }

    [Theory, MemberData(nameof(NumericTypes))]
    public void ArgMax_and_ArgMin_take_the_first_extreme(DType dtype)
    {
        var rng = new Random(3);
        using var scope = Tensor.Scope();
        var x = Data.Ints(rng, [4, 5, 3], -2, 3, dtype);          // many ties
        var rx = RefArray.Of(x);
        for (int axis = 0; axis < 3; axis++)
        {
            var am = x.ArgMax(axis);
            var an = x.ArgMin(axis, keepDim: true);
            Assert.Equal(DType.Int64, am.DType);
            var amv = RefArray.Of(am);
            var anv = RefArray.Of(an);
            var outShape = x.Shape.ToArray();
            outShape[axis] = 1;
            for (int o = 0; o < RefArray.Numel(outShape); o++)
            {
                var idx = RefArray.Unravel(o, outShape);
                var line = Enumerable.Range(0, x.Shape[axis]).Select(i => { var j = (int[])idx.Clone(); j[axis] = i; return rx.At(j); }).ToList();
                Assert.Equal(line.IndexOf(line.Max()), (int)amv.Data[o]);
                Assert.Equal(line.IndexOf(line.Min()), (int)anv.Data[o]);
            }
        }
        var flat = RefArray.Of(x).Data.ToList();
        Assert.Equal(flat.IndexOf(flat.Max()), x.ArgMax().Item<long>());
        Assert.Equal(0, x.ArgMax().Rank);
    }

    [Fact]
    public void ArgMax_treats_NaN_as_the_maximum()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new[] { 1f, float.NaN, 5f, float.NaN });
        Assert.Equal(1L, x.ArgMax().Item<long>());
        Assert.Equal(1L, x.ArgMin().Item<long>());
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Mean_var_std_logsumexp_match_reference(DType dtype)
    {
        var rng = new Random(4);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [4, 6, 5], -3, 3, dtype);
        var rx = RefArray.Of(x);
        var (rt, at) = Check.Tolerance(dtype);
        foreach (var axes in new[] { new[] { 0 }, [2], [0, 2], [0, 1, 2] })
        {
            double Mean(IEnumerable<double> v) => v.Average();
            double Var(IEnumerable<double> v) { var l = v.ToList(); double m = l.Average(); return l.Sum(e => (e - m) * (e - m)) / (l.Count - 1); }
            double Lse(IEnumerable<double> v) { var l = v.ToList(); double m = l.Max(); return m + Math.Log(l.Sum(e => Math.Exp(e - m))); }
            Check.Equal(rx.Reduce(axes, Mean), x.Mean(axes, keepDim: true), rt * 10, at * 10, "Mean");
            Check.Equal(rx.Reduce(axes, Var), x.Var(axes, keepDim: true), rt * 10, at * 10, "Var");
            Check.Equal(rx.Reduce(axes, v => Math.Sqrt(Var(v))), x.Std(axes, keepDim: true), rt * 10, at * 10, "Std");
            Check.Equal(rx.Reduce(axes, Lse), x.LogSumExp(axes, keepDim: true), rt * 10, at * 10, "LogSumExp");
        }
        var pop = x.Var([], correction: 0).Item<double>();
        var all = rx.Data;
        Assert.Equal(all.Sum(e => (e - all.Average()) * (e - all.Average())) / all.Length, pop, dtype == DType.Float32 ? 1e-4 : 1e-12);
    }

    [Fact]
    public void Var_and_std_of_one_axis_are_per_row_as_in_pytorch()
    {
        // x = [[1, 2, 3], [2, 4, 9]]: row means 2 and 5; squared deviations [1, 0, 1] and [9, 1, 16];
        // with correction 1 (divide by n - 1 = 2) the row variances are 1 and 13.
        // All six: mean 3.5, Σ(x - 3.5)² = 6.25 + 2.25 + 0.25 + 2.25 + 0.25 + 30.25 = 41.5, / 5 = 8.3.
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 2, 4, 9 }, 2, 3);
        Near([1, 13], x.Var(1));
        Assert.Equal(new[] { 2, 1 }, x.Var(1, keepDim: true).Shape.ToArray());
        Near([0.5, 2, 18], x.Var(0));
        Near([2.0 / 3, 26.0 / 3], x.Var(1, correction: 0));
        Assert.Equal(8.3, x.Var().Item<double>(), 12);
        Assert.Equal(41.5 / 6, x.Var([], correction: 0).Item<double>(), 12);
        Near([1, Math.Sqrt(13)], x.Std(1));
        Assert.Equal(Math.Sqrt(8.3), x.Std().Item<double>(), 12);
        Assert.Equal(Math.Sqrt(41.5 / 6), x.Std([0, 1], correction: 0).Item<double>(), 12);

        static void Near(double[] expected, Tensor actual)
        {
            var got = actual.ToArray<double>();
            Assert.Equal(expected.Length, got.Length);
            for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 12);
        }
    }

    [Fact]
    public void Variable_var_and_std_of_one_axis_pass_gradcheck()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 2, 4, 9, -1, 0.5, 7, 3, 3.5, -2 }, 3, 4);
        Assert.Equal(x.Var(1).ToArray<double>(), new Variable(x).Var(1).Data.ToArray<double>());
        GradCheck.Assert(v => v[0].Var(1), [x], name: "Var(1)");
        GradCheck.Assert(v => v[0].Var(0, keepDim: true, correction: 0), [x], name: "Var(0, keepDim, correction 0)");
        GradCheck.Assert(v => v[0].Std(1), [x], name: "Std(1)");
        GradCheck.Assert(v => v[0].Std(), [x], name: "Std()");
    }

    [Fact]
    public void LogSumExp_is_stable_for_large_and_infinite_inputs()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[] { 1000, 1000, float.NegativeInfinity, float.NegativeInfinity, 1, float.PositiveInfinity }, 3, 2);
        var r = x.LogSumExp(1).ToArray<float>();
        Assert.Equal(1000 + MathF.Log(2), r[0], 3);
        Assert.Equal(float.NegativeInfinity, r[1]);
        Assert.Equal(float.PositiveInfinity, r[2]);
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Softmax_and_LogSoftmax_along_each_axis(DType dtype)
    {
        var rng = new Random(5);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [3, 4, 5], -5, 5, dtype);
        var rx = RefArray.Of(x);
        var (rt, at) = Check.Tolerance(dtype);
        for (int axis = -1; axis < 3; axis++)
        {
            int a = axis < 0 ? axis + 3 : axis;
            var sm = new double[rx.Data.Length];
            var lsm = new double[rx.Data.Length];
            for (int i = 0; i < sm.Length; i++)
            {
                var idx = RefArray.Unravel(i, rx.Shape);
                var line = Enumerable.Range(0, rx.Shape[a]).Select(k => { var j = (int[])idx.Clone(); j[a] = k; return rx.At(j); }).ToList();
                double m = line.Max(), s = line.Sum(v => Math.Exp(v - m));
                sm[i] = Math.Exp(rx.Data[i] - m) / s;
                lsm[i] = rx.Data[i] - m - Math.Log(s);
            }
            Check.Equal(new RefArray(rx.Shape, sm), x.Softmax(axis), rt * 10, at * 10, $"Softmax axis {axis}");
            Check.Equal(new RefArray(rx.Shape, lsm), x.LogSoftmax(axis), rt * 10, at * 10, $"LogSoftmax axis {axis}");
        }
        var nc = Data.NonContiguous(rng, [6, 7], -5, 5, dtype, 0);
        var rows = RefArray.Of(nc.Softmax(1).Sum(1)).Data;
        Assert.All(rows, v => Assert.Equal(1.0, v, dtype == DType.Float32 ? 1e-5 : 1e-12));
    }

    [Fact]
    public void Softmax_is_stable_for_huge_logits()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[] { 1000, 1001, -1000, 89, 90, 91 }, 2, 3);
        var p = x.Softmax(1).ToArray<float>();
        Assert.All(p, v => Assert.True(float.IsFinite(v)));
        // row 0: e^(x - 1001) = [e^-1, 1, ~0], so p = [1/(1+e), e/(1+e), 0]
        Assert.Equal(1 / (1 + MathF.E), p[0], 5);
        Assert.Equal(MathF.E / (1 + MathF.E), p[1], 5);
        Assert.Equal(0f, p[2], 7);
        var lp = x.LogSoftmax(1).ToArray<float>();
        Assert.Equal(-MathF.Log(1 + MathF.E), lp[0], 4);
        Assert.Equal(-2000 - MathF.Log(1 + MathF.E), lp[2], 2);
    }
}

public sealed class CpuReduceTests : ReduceTests;

/// <summary>The vector exponential used by the fused softmax.</summary>
public sealed class SimdExpTests
{
    [Fact]
    public void Vector_exp_is_within_three_ulp_and_handles_the_edges()
    {
        for (int i = 0; i <= 200_000; i++)
        {
            float v = -87f + 175f * i / 200_000;
            float e = Engine.Kernels.Simd.Exp(System.Runtime.Intrinsics.Vector256.Create(v))[0];
            double r = Math.Exp(v);
            Assert.True(Math.Abs(e - r) <= 3e-7 * r, $"exp({v:R}) = {e:R}, expected {r:R}");
        }
        float Exp(float v) => Engine.Kernels.Simd.Exp(System.Runtime.Intrinsics.Vector256.Create(v))[0];
        Assert.Equal(0f, Exp(float.NegativeInfinity));
        Assert.Equal(0f, Exp(-100f));
        Assert.Equal(1f, Exp(0f));
        Assert.True(float.IsNaN(Exp(float.NaN)));
        Assert.Equal(float.PositiveInfinity, Exp(89f));
    }
}
