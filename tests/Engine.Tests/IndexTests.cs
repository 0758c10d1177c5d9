namespace Engine.Tests;

/// <summary>Index-select, gather, scatter-add, one-hot, concat, stack and pad.</summary>
public abstract class IndexTests
{
    [Theory]
    [InlineData(DType.Int64)]
    [InlineData(DType.Int32)]
    public void IndexSelect_picks_slices_along_any_axis(DType indexType)
    {
        var rng = new Random(1);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [4, 5, 3], -1, 1);
        var rx = RefArray.Of(x);
        var idx = Tensor.FromArray(new long[] { 3, 0, 3, 1 }).To(indexType);
        for (int axis = 0; axis < 3; axis++)
        {
            var picks = new long[] { 2, 0, 2, 1 }.Where(v => v < x.Shape[axis]).ToArray();
            using var ix = Tensor.FromArray(picks).To(indexType);
            var y = x.IndexSelect(axis, ix);
            var shape = x.Shape.ToArray();
            shape[axis] = picks.Length;
            var expected = RefArray.Zeros(shape);
            for (int i = 0; i < expected.Data.Length; i++)
            {
                var at = RefArray.Unravel(i, shape);
                at[axis] = (int)picks[at[axis]];
                expected.Data[i] = rx.At(at);
            }
            Check.Equal(expected, y, $"axis {axis}");
        }
        var table = x.Reshape(4, 15);
        var rows = table.IndexSelect(0, idx);                     // an embedding lookup
        Assert.Equal(RefArray.Of(table.Select(0, 3)).Data, RefArray.Of(rows.Select(0, 0)).Data);
        var strided = x.Permute(2, 0, 1).IndexSelect(1, idx);     // strided source
        Check.Equal(RefArray.Of(x.IndexSelect(0, idx).Permute(2, 0, 1)), strided, "strided");
    }

    [Fact]
    public void Gather_follows_pytorch_semantics()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var i1 = Tensor.FromArray(new long[,] { { 2, 0 }, { 1, 1 } });
        // out[i][j] = x[i][index[i][j]]
        Assert.Equal(new float[] { 3, 1, 5, 5 }, x.Gather(1, i1).ToArray<float>());
        var i0 = Tensor.FromArray(new long[,] { { 1, 0, 1 } });
        // out[i][j] = x[index[i][j]][j]
        Assert.Equal(new float[] { 4, 2, 6 }, x.Gather(0, i0).ToArray<float>());
        var logits = Tensor.FromArray(new double[,] { { 0.1, 0.7, 0.2 }, { 0.5, 0.3, 0.2 } });
        var labels = Tensor.FromArray(new long[] { 1, 0 });
        Assert.Equal(new[] { 0.7, 0.5 }, logits.Gather(1, labels.Unsqueeze(1)).ToArray<double>());
    }

    [Fact]
    public void ScatterAdd_accumulates_duplicates_in_order()
    {
        using var scope = Tensor.Scope();
        var y = Tensor.Zeros(2, 4);
        var index = Tensor.FromArray(new long[,] { { 0, 1, 1, 3 }, { 2, 2, 2, 0 } });
        var src = Tensor.FromArray(new float[,] { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } });
        var r = y.ScatterAdd(1, index, src);
        Assert.Equal(new float[] { 1, 5, 0, 4, 8, 0, 18, 0 }, r.ToArray<float>());
        Assert.All(y.ToArray<float>(), v => Assert.Equal(0f, v));           // ScatterAdd copies
        // gather's adjoint: <gather(x), g> == <x, scatter_add(0, g)>
        var rng = new Random(3);
        var x = Data.Uniform(rng, [5, 4], -1, 1);
        var ix = Data.Ints(rng, [7, 4], 0, 5, DType.Int64);
        var g = Data.Uniform(rng, [7, 4], -1, 1);
        double lhs = (x.Gather(0, ix) * g).Sum().Item<double>();
        double rhs = (x * Tensor.ZerosLike(x).ScatterAdd(0, ix, g)).Sum().Item<double>();
        Assert.Equal(lhs, rhs, 12);
    }

    [Fact]
    public void A_bad_index_leaves_the_scatter_target_untouched()
    {
        using var scope = Tensor.Scope();
        var y = Tensor.Ones(3);
        var index = Tensor.FromArray(new long[] { 0, 1, 7 });
        var ex = Assert.Throws<IndexRangeException>(() => y.ScatterAddInPlace(0, index, Tensor.Ones(3)));
        Assert.Contains("ScatterAdd", ex.Message);
        Assert.Contains("index 7", ex.Message);
        Assert.Equal(new float[] { 1, 1, 1 }, y.ToArray<float>());
    }

    [Fact]
    public void OneHot_marks_each_label()
    {
        using var scope = Tensor.Scope();
        var labels = Tensor.FromArray(new long[] { 2, 0, 1 });
        var oh = labels.OneHot(3);
        Assert.Equal(DType.Int64, oh.DType);
        Assert.Equal(new long[] { 0, 0, 1, 1, 0, 0, 0, 1, 0 }, oh.ToArray<long>());
        Assert.Equal(new[] { 3, 4 }, labels.OneHot(4, DType.Float32).Shape.ToArray());
        Assert.Throws<IndexRangeException>(() => labels.OneHot(2));
    }

    [Fact]
    public void Concat_and_Stack_join_tensors()
    {
        using var scope = Tensor.Scope();
        var a = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new float[,] { { 5, 6 } });
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, Tensor.Concat([a, b], 0).ToArray<float>());
        var c = Tensor.Concat([a, a.T], 1);
        Assert.Equal(new float[] { 1, 2, 1, 3, 3, 4, 2, 4 }, c.ToArray<float>());
        var s = Tensor.Stack([a, a], -1);
        Assert.Equal(new[] { 2, 2, 2 }, s.Shape.ToArray());
        Assert.Equal(new float[] { 1, 1, 2, 2, 3, 3, 4, 4 }, s.ToArray<float>());
        Assert.Equal(new[] { 0, 2 }, Tensor.Concat([Tensor.Zeros(0, 2), Tensor.Zeros(0, 2)]).Shape.ToArray());
    }

    [Fact]
    public void Pad_adds_and_crops_from_the_last_dim()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        var p = x.Pad([1, 0, 0, 1], -1);   // last dim: 1 before; first dim: 1 after
        Assert.Equal(new[] { 3, 3 }, p.Shape.ToArray());
        Assert.Equal(new float[] { -1, 1, 2, -1, 3, 4, -1, -1, -1 }, p.ToArray<float>());
        var crop = x.Pad([-1, 0]);
        Assert.Equal(new float[] { 2, 4 }, crop.ToArray<float>());
        var mixed = x.Pad([1, -1]);
        Assert.Equal(new float[] { 0, 1, 0, 3 }, mixed.ToArray<float>());
    }
}

public sealed class CpuIndexTests : IndexTests;
