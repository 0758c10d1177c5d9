using Engine.Kernels;

namespace Engine.Tests;

/// <summary>Creation functions and the counter-based random generator.</summary>
public abstract class CreationTests
{
    [Fact]
    public void Constant_creation_functions()
    {
        using var scope = Tensor.Scope();
        Assert.All(Tensor.Zeros(2, 3).ToArray<float>(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones([4], DType.Int32).ToArray<int>(), v => Assert.Equal(1, v));
        Assert.All(Tensor.Full([2, 2], 3.5, DType.Float64).ToArray<double>(), v => Assert.Equal(3.5, v));
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0 }, Tensor.Eye(2, 3).ToArray<float>());
        Assert.Equal(new long[] { 0, 1, 2, 3 }, Tensor.Arange(4).ToArray<long>());
        Assert.Equal(new float[] { 1, 1.5f, 2, 2.5f }, Tensor.Arange(1, 3, 0.5).ToArray<float>());
        Assert.Equal(new float[] { 5, 3, 1 }, Tensor.Arange(5, 0, -2).ToArray<float>());
        Assert.Equal(new double[] { 0, 0.25, 0.5, 0.75, 1 }, Tensor.Linspace(0, 1, 5, DType.Float64).ToArray<double>());
        Assert.Equal(new double[] { 2 }, Tensor.Linspace(2, 9, 1, DType.Float64).ToArray<double>());
        Assert.Equal(DType.Bool, Tensor.Zeros([1], DType.Bool).DType);
    }

    [Fact]
    public void FromArray_takes_any_rank_and_element_type()
    {
        using var scope = Tensor.Scope();
        var m = Tensor.FromArray(new double[,,] { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } });
        Assert.Equal(new[] { 2, 2, 2 }, m.Shape.ToArray());
        Assert.Equal(7.0, m[1, 1, 0]);
        var b = Tensor.FromArray(new bool[,] { { true, false } });
        Assert.Equal(DType.Bool, b.DType);
        Assert.Equal(new[] { true, false }, b.ToArray<bool>());
        Assert.Equal(DType.Int32, Tensor.FromArray(new[] { 1, 2 }).DType);
        Assert.Equal(new[] { 2, 3 }, Tensor.FromArray(new float[6], 2, 3).Shape.ToArray());
        Assert.Equal(new[] { 1 }, Tensor.FromArray(new float[] { 4 }).Shape.ToArray());
    }

    [Fact]
    public void FromArray_with_an_empty_shape_makes_a_0d_tensor()
    {
        using var scope = Tensor.Scope();
        var s = Tensor.FromArray(new double[] { 2.5 }, []);
        Assert.Equal(0, s.Rank);
        Assert.Equal(1, s.Numel);
        Assert.Equal(2.5, s.Item<double>());
        Assert.Equal(new[] { 1 }, Tensor.FromArray(new double[] { 2.5 }).Shape.ToArray());
        Assert.Equal(new[] { 0 }, Tensor.FromArray(new float[0]).Shape.ToArray());
        var e = Assert.Throws<ShapeException>(() => Tensor.FromArray(new float[] { 1, 2, 3 }, []));
        Assert.Contains("FromArray: []", e.Message);
        Assert.Contains("holds 3", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Throws<ShapeException>(() => Tensor.FromArray(new float[0], []));
    }

    [Fact]
    public void Casts_follow_pytorch_rules()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new double[] { -1.7, -0.2, 0, 0.5, 2.9 });
        Assert.Equal(new long[] { -1, 0, 0, 0, 2 }, x.To(DType.Int64).ToArray<long>());
        Assert.Equal(new[] { true, true, false, true, true }, x.To(DType.Bool).ToArray<bool>());
        Assert.Equal(new[] { 1f, 0f }, Tensor.FromArray(new[] { true, false }).To(DType.Float32).ToArray<float>());
        Assert.Equal(new[] { 3000000000L }, Tensor.FromArray(new[] { 3e9 }).To(DType.Int64).ToArray<long>());
    }

    [Fact]
    public void Philox_matches_the_published_known_answer()
    {
        // Random123's known-answer test for philox4x32-10 with a zero counter and key.
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), Philox.Block(0, 0, 0, 0, 0, 0));
        Assert.Equal((0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu),
            Philox.Block(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff));
    }

    [Fact]
    public void Same_seed_same_numbers_and_draws_advance_the_stream()
    {
        using var scope = Tensor.Scope();
        var g1 = new Generator(42);
        var g2 = new Generator(42);
        var a = Tensor.Rand([1000], 0, 1, generator: g1).ToArray<float>();
        var b = Tensor.Rand([1000], 0, 1, generator: g2).ToArray<float>();
        Assert.Equal(a, b);
        var next = Tensor.Rand([1000], 0, 1, generator: g1).ToArray<float>();
        Assert.NotEqual(a, next);
        // one draw of 2000 equals two draws of 1000 from the same position
        var g3 = new Generator(42);
        var whole = Tensor.Rand([2000], 0, 1, generator: g3).ToArray<float>();
        Assert.Equal(a.Concat(next), whole);
        Assert.NotEqual(a, Tensor.Rand([1000], 0, 1, generator: new Generator(43)).ToArray<float>());
    }

    [Fact]
    public void Distributions_have_the_right_range_and_moments()
    {
        using var scope = Tensor.Scope();
        var g = new Generator(7);
        var u = Tensor.Rand([200_000], -2, 3, DType.Float64, g).ToArray<double>();
        Assert.All(u, v => Assert.InRange(v, -2, 3 - 1e-12));
        Assert.InRange(u.Average(), 0.5 - 0.02, 0.5 + 0.02);        // 5 standard errors
        var n = Tensor.RandN([200_000], 1, 2, DType.Float64, g).ToArray<double>();
        double mean = n.Average(), sd = Math.Sqrt(n.Sum(v => (v - mean) * (v - mean)) / n.Length);
        Assert.InRange(mean, 1 - 0.025, 1 + 0.025);
        Assert.InRange(sd, 2 - 0.02, 2 + 0.02);
        var k = Tensor.RandInt(-3, 4, [70_000], generator: g).ToArray<long>();
        Assert.All(k, v => Assert.InRange(v, -3, 3));
        Assert.Equal(7, k.Distinct().Count());
        Assert.All(k.GroupBy(v => v), grp => Assert.InRange(grp.Count(), 9000, 11000));
        var f = Tensor.Rand([100_000], 0, 1, generator: g).ToArray<float>();
        Assert.All(f, v => Assert.InRange(v, 0f, 0.99999994f));
        var perm = Tensor.RandPerm(50, g).ToArray<long>();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), perm.Order());
    }
}

public sealed class CpuCreationTests : CreationTests;
