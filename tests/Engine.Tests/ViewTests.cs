namespace Engine.Tests;

/// <summary>Movement ops: views share memory and see the right elements; copies happen only where needed.</summary>
public abstract class ViewTests
{
    private static Tensor Iota(params int[] shape) => Tensor.Arange(0, RefArray.Numel(shape), 1, DType.Float64).Reshape(shape);

    [Fact]
    public void Reshape_views_when_possible_and_copies_otherwise()
    {
        using var scope = Tensor.Scope();
        var x = Iota(2, 3, 4);
        var r = x.Reshape(4, -1);
        Assert.Equal(new[] { 4, 6 }, r.Shape.ToArray());
        Assert.True(r.SharesStorageWith(x));
        var t = x.Transpose(1, 2);                       // [2, 4, 3], not contiguous
        var merged = t.Reshape(2, 12);                   // needs a copy
        Assert.False(merged.SharesStorageWith(x));
        Assert.Equal(RefArray.Of(t).Data, merged.ToArray<double>());
        var split = t.Reshape(2, 2, 2, 3);               // splitting a dim is a view even when transposed
        Assert.True(split.SharesStorageWith(x));
        Assert.Equal(RefArray.Of(t).Data, RefArray.Of(split).Data);
        Assert.Throws<ShapeException>(() => t.View(2, 12));
        Assert.Equal(new[] { 24 }, x.Reshape(-1).Shape.ToArray());
        Assert.Equal(0, Tensor.Scalar(3).Reshape().Rank);
    }

    [Fact]
    public void Writes_through_a_view_are_seen_by_the_base()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Zeros(3, 4);
        x.Slice(1, 1, 4, 2).FillInPlace(5);              // columns 1 and 3
        x.Select(0, 2).Narrow(0, 0, 1).FillInPlace(7);
        Assert.Equal(new float[] { 0, 5, 0, 5, 0, 5, 0, 5, 7, 5, 0, 5 }, x.ToArray<float>());
    }

    [Fact]
    public void Permute_transpose_and_T_reorder_dims()
    {
        using var scope = Tensor.Scope();
        var x = Iota(2, 3, 4);
        var p = x.Permute(2, 0, 1);
        Assert.Equal(new[] { 4, 2, 3 }, p.Shape.ToArray());
        Assert.Equal(x[1, 2, 3], p[3, 1, 2]);
        Assert.Equal(x[0, 1, 2], x.Transpose(0, -1)[2, 1, 0]);
        var m = Iota(2, 3);
        Assert.Equal(new double[] { 0, 3, 1, 4, 2, 5 }, m.T.Contiguous().ToArray<double>());
    }

    [Fact]
    public void Slice_narrow_select_index_like_python()
    {
        using var scope = Tensor.Scope();
        var v = Iota(10);
        Assert.Equal(new double[] { 2, 5, 8 }, v.Slice(0, 2, 10, 3).ToArray<double>());
        Assert.Equal(new double[] { 7, 8 }, v.Slice(0, -3, -1).ToArray<double>());
        Assert.Empty(v.Slice(0, 8, 2).ToArray<double>());
        Assert.Equal(new double[] { 3, 4, 5 }, v.Narrow(0, 3, 3).ToArray<double>());
        Assert.Equal(9.0, v.Select(0, -1).Item<double>());
        Assert.Equal(9.0, v[-1]);
    }

    [Fact]
    public void Expand_squeeze_unsqueeze_flatten()
    {
        using var scope = Tensor.Scope();
        var col = Iota(3, 1);
        var e = col.Expand(2, 3, 4);
        Assert.Equal(new[] { 2, 3, 4 }, e.Shape.ToArray());
        Assert.Equal(0L, e.Strides[0]);
        Assert.Equal(2.0, e[1, 2, 3]);
        Assert.Equal(new[] { 3, 1 }, col.Expand(-1, -1).Shape.ToArray());
        var u = col.Unsqueeze(0).Unsqueeze(-1);
        Assert.Equal(new[] { 1, 3, 1, 1 }, u.Shape.ToArray());
        Assert.Equal(new[] { 3 }, u.Squeeze().Shape.ToArray());
        Assert.Equal(new[] { 3, 1, 1 }, u.Squeeze(0).Shape.ToArray());
        var x = Iota(2, 3, 4);
        Assert.Equal(new[] { 2, 12 }, x.Flatten(1).Shape.ToArray());
        Assert.Equal(new[] { 6, 4 }, x.Flatten(0, 1).Shape.ToArray());
        Assert.Equal(new[] { 24 }, x.Flatten().Shape.ToArray());
    }

    [Fact]
    public void Contiguous_copies_only_non_contiguous_views()
    {
        using var scope = Tensor.Scope();
        var x = Iota(3, 4);
        var same = x.Contiguous();
        Assert.True(same.SharesStorageWith(x));
        var t = x.T;
        Assert.False(t.IsContiguous);
        var c = t.Contiguous();
        Assert.True(c.IsContiguous);
        Assert.False(c.SharesStorageWith(x));
        Assert.Equal(RefArray.Of(t).Data, c.ToArray<double>());
    }

    [Fact]
    public void Rank_zero_and_zero_size_tensors_work()
    {
        using var scope = Tensor.Scope();
        var s = Tensor.Scalar(2.5);
        Assert.Equal(0, s.Rank);
        Assert.Equal(1, s.Numel);
        Assert.Equal(5.0f, (s * 2).Item<float>());
        var e = Tensor.Zeros(2, 0, 3);
        Assert.Equal(0, e.Numel);
        Assert.Equal(new[] { 0, 3 }, e.Reshape(0, 3).Shape.ToArray());
        Assert.Equal(new[] { 2, 3, 0 }, e.Permute(0, 2, 1).Shape.ToArray());
        Assert.Empty((e + 1).ToArray<float>());
        Assert.Equal(new[] { 2, 3 }, e.Sum(1).Shape.ToArray());
    }
}

public sealed class CpuViewTests : ViewTests;
