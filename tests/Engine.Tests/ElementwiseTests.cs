using Engine.Kernels;

namespace Engine.Tests;

/// <summary>
/// Forward of every elementwise op in <see cref="OpDb"/> against its float64 reference, on random
/// shapes: same shape, broadcast, scalar, rank 0, empty and non-contiguous operands, and on
/// NaN/±∞/±0. Stamped out once per backend by a sealed subclass.
/// </summary>
public abstract class ElementwiseTests
{
    public static TheoryData<string, DType> UnaryCases()
    {
        var d = new TheoryData<string, DType>();
        foreach (var op in OpDb.Unary)
        {
            d.Add(op.Name, DType.Float32);
            d.Add(op.Name, DType.Float64);
            if (op.Integers) { d.Add(op.Name, DType.Int32); d.Add(op.Name, DType.Int64); }
        }
        return d;
    }

    public static TheoryData<string, DType> BinaryCases()
    {
        var d = new TheoryData<string, DType>();
        foreach (var op in OpDb.Binary.Concat(OpDb.Compare))
        {
            d.Add(op.Name, DType.Float32);
            d.Add(op.Name, DType.Float64);
            if (op.Integers) { d.Add(op.Name, DType.Int32); d.Add(op.Name, DType.Int64); }
        }
        return d;
    }

    private static BinaryCase FindBinary(string name) => OpDb.Binary.Concat(OpDb.Compare).Single(o => o.Name == name);

    internal static int[] RandomShape(Random rng, int maxRank = 4, int maxSize = 5)
    {
        int rank = rng.Next(0, maxRank + 1);
        return [.. Enumerable.Range(0, rank).Select(_ => rng.Next(1, maxSize + 1))];
    }

    private static Tensor Input(Random rng, int[] shape, double lo, double hi, DType dtype) =>
        dtype.IsFloating() ? Data.Uniform(rng, shape, lo, hi, dtype) : Data.Ints(rng, shape, (int)Math.Ceiling(lo), (int)Math.Floor(hi) + 1, dtype);

    [Theory, MemberData(nameof(UnaryCases))]
    public void Unary_matches_reference_on_random_shapes(string name, DType dtype)
    {
        var op = OpDb.Unary.Single(o => o.Name == name);
        var rng = new Random(name.GetHashCode() & 0xffff);
        using var scope = Tensor.Scope();
        List<int[]> shapes = [[], [0], [3, 0, 2], [1000]];
        for (int i = 0; i < 6; i++) shapes.Add(RandomShape(rng));
        foreach (var shape in shapes)
        {
            var x = Input(rng, shape, op.Lo, op.Hi, dtype);
            var y = op.Op(x);
            Assert.Equal(dtype, y.DType);
            Check.Equal(RefArray.Of(x).Map(op.Ref), y, $"{name} {Errors.Shape(shape)}");
        }
        if (!dtype.IsFloating()) return;
        for (int kind = 0; kind < 3; kind++)
        {
            var shape = new[] { 3, 4, 5 };
            var x = Data.NonContiguous(rng, shape, op.Lo, op.Hi, dtype, kind);
            Assert.False(x.IsContiguous);
            Check.Equal(RefArray.Of(x).Map(op.Ref), op.Op(x), $"{name} non-contiguous kind {kind}");
        }
    }

    [Theory, MemberData(nameof(UnaryCases))]
    public void Unary_propagates_special_values(string name, DType dtype)
    {
        if (!dtype.IsFloating()) return;
        var op = OpDb.Unary.Single(o => o.Name == name);
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(OpDb.Specials).To(dtype);
        Check.Equal(RefArray.Of(x).Map(op.Ref), op.Op(x), $"{name} specials");
    }

    [Theory, MemberData(nameof(BinaryCases))]
    public void Binary_matches_reference_with_broadcasting(string name, DType dtype)
    {
        var op = FindBinary(name);
        var rng = new Random(name.GetHashCode() & 0xffff);
        using var scope = Tensor.Scope();
        List<(int[], int[])> pairs =
        [
            ([], []), ([4], []), ([], [4]), ([0], [1]), ([2, 0], [0]), ([3, 1], [1, 4]), ([2, 3, 4], [4]),
            ([2, 1, 4], [3, 1]), ([5, 1, 1, 2], [1, 3, 2, 1]), ([1000], [1000]), ([300, 7], [300, 1]), ([7, 300], [300]),
        ];
        for (int i = 0; i < 6; i++)
        {
            var s = RandomShape(rng);
            // drop or unit-ify random dims of s for the other operand
            var t = s.Skip(rng.Next(0, s.Length + 1)).Select(n => rng.Next(2) == 0 ? 1 : n).ToArray();
            pairs.Add(rng.Next(2) == 0 ? (s, t) : (t, s));
        }
        foreach (var (sa, sb) in pairs)
        {
            var a = Input(rng, sa, op.Lo, op.Hi, dtype);
            var b = Input(rng, sb, op.LoB, op.HiB, dtype);
            var y = op.Op(a, b);
            Check.Equal(RefArray.Zip(RefArray.Of(a), RefArray.Of(b), op.Ref), y, $"{name} {Errors.Shape(sa)} x {Errors.Shape(sb)}");
        }
        if (op.WithScalar is { } withScalar)
        {
            var a = Input(rng, [3, 4], op.Lo, op.Hi, dtype);
            double s = dtype.IsFloating() ? 0.75 * op.HiB : Math.Floor(op.HiB);
            using var st = Tensor.Scalar(s, dtype);
            Check.Equal(RefArray.Zip(RefArray.Of(a), RefArray.Of(st), op.Ref), withScalar(a, s), $"{name} with scalar {s}");
        }
    }

    [Theory, MemberData(nameof(BinaryCases))]
    public void Binary_on_non_contiguous_operands(string name, DType dtype)
    {
        if (!dtype.IsFloating()) return;
        var op = FindBinary(name);
        var rng = new Random(17);
        using var scope = Tensor.Scope();
        for (int kind = 0; kind < 3; kind++)
        {
            var a = Data.NonContiguous(rng, [4, 3, 5], op.Lo, op.Hi, dtype, kind);
            var b = Data.NonContiguous(rng, [3, 5], op.LoB, op.HiB, dtype, kind + 1);
            Check.Equal(RefArray.Zip(RefArray.Of(a), RefArray.Of(b), op.Ref), op.Op(a, b), $"{name} non-contiguous kind {kind}");
        }
    }

    [Theory, MemberData(nameof(BinaryCases))]
    public void Binary_propagates_special_values(string name, DType dtype)
    {
        if (!dtype.IsFloating()) return;
        var op = FindBinary(name);
        using var scope = Tensor.Scope();
        var v = Tensor.FromArray(OpDb.Specials).To(dtype);
        var a = v.Reshape(-1, 1);
        var b = v.Reshape(1, -1);
        Check.Equal(RefArray.Zip(RefArray.Of(a), RefArray.Of(b), op.Ref), op.Op(a, b), $"{name} specials");
    }

    [Fact]
    public void Where_selects_with_broadcast_condition()
    {
        using var scope = Tensor.Scope();
        var rng = new Random(3);
        var a = Data.Uniform(rng, [3, 4], -1, 1);
        var b = Data.Uniform(rng, [4], -1, 1);
        var c = Tensor.FromArray(new[] { true, false, false }).Reshape(3, 1);
        var y = Tensor.Where(c, a, b);
        var ra = RefArray.Of(a);
        var rb = RefArray.Of(b);
        var expected = new RefArray([3, 4], [.. Enumerable.Range(0, 12).Select(i => i / 4 == 0 ? ra.Data[i] : rb.Data[i % 4])]);
        Check.Equal(expected, y);
    }

    [Fact]
    public void Bool_tensors_compare_for_equality()
    {
        using var scope = Tensor.Scope();
        var a = Tensor.FromArray(new[] { true, false, true });
        var b = Tensor.FromArray(new[] { true, true, false });
        Assert.Equal(new[] { true, false, false }, a.Eq(b).ToArray<bool>());
        Assert.Equal(new[] { false, true, true }, a.Ne(b).ToArray<bool>());
    }

    [Fact]
    public void In_place_ops_write_into_the_tensor_and_its_views()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Zeros(2, 3);
        var row = x.Select(0, 1);
        row.AddInPlace(Tensor.FromArray(new float[] { 1, 2, 3 }));
        x.MulInPlace(2);
        Assert.Equal(new float[] { 0, 0, 0, 2, 4, 6 }, x.ToArray<float>());
        x.FillInPlace(7);
        Assert.All(x.ToArray<float>(), v => Assert.Equal(7f, v));
    }

    [Theory]
    [InlineData("float32")]
    [InlineData("float64")]
    public void Scaled_in_place_add_is_beta_this_plus_alpha_other_with_broadcasting(string dtypeName)
    {
        var dtype = dtypeName == "float32" ? DType.Float32 : DType.Float64;
        using var scope = Tensor.Scope();
        // 37 elements per row: whole vectors and a tail; the second operand broadcasts over rows
        var rng = new Random(5);
        var y0 = Enumerable.Range(0, 3 * 37).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var x0 = Enumerable.Range(0, 37).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var y = Tensor.FromArray(y0).Reshape(3, 37).To(dtype);
        var x = Tensor.FromArray(x0).To(dtype);
        var version = y.Version;
        Assert.Same(y, y.AddInPlace(x, alpha: -0.5, beta: 0.9));
        Assert.True(y.Version > version, "an in-place update bumps the version");
        var got = y.To(DType.Float64).ToArray<double>();
        double tol = dtype == DType.Float32 ? 1e-6 : 1e-15;
        for (int i = 0; i < got.Length; i++)
            Assert.Equal(0.9 * y0[i] - 0.5 * x0[i % 37], got[i], tol);
        // a strided destination (a column view) takes the element-by-element path
        var col = y.Select(1, 0);
        col.AddInPlace(Tensor.Ones([3], dtype), alpha: 2);
        Assert.Equal(0.9 * y0[37] - 0.5 * x0[0] + 2, y.To(DType.Float64).ToArray<double>()[37], tol);
    }

    [Fact]
    public void Scaled_in_place_add_rejects_integers_and_mismatched_shapes_untouched()
    {
        using var scope = Tensor.Scope();
        var y = Tensor.Ones(2, 3);
        var ex = Assert.Throws<ShapeException>(() => y.AddInPlace(Tensor.Ones(4), alpha: 2));
        Assert.Contains("AddInPlace", ex.Message);
        Assert.Contains("[4]", ex.Message);
        var dt = Assert.Throws<DTypeException>(() => Tensor.Ones([2], DType.Int64).AddInPlace(Tensor.Ones([2], DType.Int64), alpha: 2));
        Assert.Contains("AddInPlace", dt.Message);
        Assert.All(y.ToArray<float>(), v => Assert.Equal(1f, v));
    }
}

public sealed class CpuElementwiseTests : ElementwiseTests;

/// <summary>
/// The CPU's vector rows for comparisons and Where (a lane mask turned into Bool bytes, condition bytes widened to
/// lane masks): every dtype, lengths around the vector widths (4, 8, 32 lanes), operands dense or broadcast scalars,
/// NaN and ±0 among the values, against the scalar definition.
/// </summary>
public sealed class VectorRowTests
{
    private static readonly int[] s_lengths = [0, 1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 67];

    private static double[] Values(Random rng, int n, DType t) => [.. Enumerable.Range(0, n).Select(_ => t switch
    {
        DType.Bool => rng.Next(2),
        DType.Int32 or DType.Int64 => rng.Next(-3, 4),
        _ => rng.Next(10) switch { 0 => double.NaN, 1 => -0.0, 2 => 0.0, _ => rng.Next(-3, 4) * 0.5 },
    })];

    private static Tensor Make(double[] v, DType t) => Tensor.FromArray(v).To(t);

    private static bool Reference(CompareOp op, double a, double b) => op switch
    {
        CompareOp.Eq => a == b,
        CompareOp.Ne => a != b,
        CompareOp.Lt => a < b,
        CompareOp.Le => a <= b,
        CompareOp.Gt => a > b,
        _ => a >= b,
    };

    private static Tensor Run(CompareOp op, Tensor a, Tensor b) => op switch
    {
        CompareOp.Eq => a.Eq(b),
        CompareOp.Ne => a.Ne(b),
        CompareOp.Lt => a.Lt(b),
        CompareOp.Le => a.Le(b),
        CompareOp.Gt => a.Gt(b),
        _ => a.Ge(b),
    };

    public static TheoryData<CompareOp, DType> CompareCases()
    {
        var d = new TheoryData<CompareOp, DType>();
        foreach (var op in Enum.GetValues<CompareOp>())
            foreach (var t in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.Bool })
                if (t != DType.Bool || op is CompareOp.Eq or CompareOp.Ne) d.Add(op, t);
        return d;
    }

    [Theory, MemberData(nameof(CompareCases))]
    public void Comparisons_of_dense_and_broadcast_rows_match_the_scalar_definition(CompareOp op, DType t)
    {
        var rng = new Random((int)op * 10 + (int)t);
        using var scope = Tensor.Scope();
        foreach (int n in s_lengths)
        {
            double[] a = Values(rng, n, t), b = Values(rng, n, t), s = Values(rng, 1, t);
            var ta = Make(a, t);
            var tb = Make(b, t);
            var ts = Make(s, t);
            Check(op, Run(op, ta, tb), i => Reference(op, a[i], b[i]), $"{op} {t} n={n} dense");
            Check(op, Run(op, ta, ts), i => Reference(op, a[i], s[0]), $"{op} {t} n={n} scalar right");
            Check(op, Run(op, ts, ta), i => Reference(op, s[0], a[i]), $"{op} {t} n={n} scalar left");
        }
    }

    private static void Check(CompareOp op, Tensor result, Func<int, bool> expected, string what)
    {
        Assert.Equal(DType.Bool, result.DType);
        var got = result.ToArray<bool>();
        for (int i = 0; i < got.Length; i++)
            Assert.True(got[i] == expected(i), $"{what}: element {i} is {got[i]}");
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Bool)]
    public void Where_of_dense_and_broadcast_rows_selects_element_by_element(DType t)
    {
        var rng = new Random(7 + (int)t);
        using var scope = Tensor.Scope();
        foreach (int n in s_lengths)
        {
            double[] c = Values(rng, n, DType.Bool), a = Values(rng, n, t), b = Values(rng, n, t), s = Values(rng, 1, t);
            var tc = Make(c, DType.Bool);
            var ta = Make(a, t);
            var tb = Make(b, t);
            var ts = Make(s, t);
            Same(Tensor.Where(tc, ta, tb), i => c[i] != 0 ? a[i] : b[i], t, $"{t} n={n} dense");
            Same(Tensor.Where(tc, ts, tb), i => c[i] != 0 ? s[0] : b[i], t, $"{t} n={n} a scalar");
            Same(Tensor.Where(tc, ta, ts), i => c[i] != 0 ? a[i] : s[0], t, $"{t} n={n} b scalar");
        }
    }

    private static void Same(Tensor result, Func<int, double> expected, DType t, string what)
    {
        var got = result.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < got.Length; i++)
        {
            double e = t == DType.Float32 ? (float)expected(i) : expected(i);
            Assert.True(got[i].Equals(e) && double.IsNegative(got[i]) == double.IsNegative(e), $"{what}: element {i} is {got[i]}, expected {e}");
        }
    }
}
