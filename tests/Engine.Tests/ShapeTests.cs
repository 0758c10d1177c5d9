namespace Engine.Tests;

/// <summary>Tensor.Shape is a value users print, compare and index, as PyTorch's torch.Size.</summary>
public sealed class ShapeTests
{
    [Fact]
    public void A_shape_prints_like_pytorch_and_not_as_a_span_type()
    {
        using var t = Tensor.Zeros(8, 16, 4, 4);
        Assert.Equal("[8, 16, 4, 4]", t.Shape.ToString());
        Assert.Equal("shape [8, 16, 4, 4]", $"shape {t.Shape}");
        using var scalar = Tensor.Scalar(3.0f);
        Assert.Equal("[]", scalar.Shape.ToString());
        var writer = new StringWriter();
        writer.Write(t.Shape);                     // Console.WriteLine(t.Shape) compiles and prints the sizes
        Assert.Equal("[8, 16, 4, 4]", writer.ToString());
    }

    [Fact]
    public void A_shape_indexes_slices_enumerates_and_compares_by_value()
    {
        using var a = Tensor.Zeros(2, 3, 5);
        using var b = Tensor.Ones(2, 3, 5);
        using var c = Tensor.Zeros(2, 5, 3);
        Assert.Equal(5, a.Shape[^1]);
        Assert.Equal(3, a.Shape.Length);
        Assert.Equal([3, 5], a.Shape[1..].ToArray());
        Assert.Equal([2, 3, 5], [.. a.Shape]);
        Assert.Equal(30, a.Shape.Numel);
        Assert.True(a.Shape == b.Shape);
        Assert.True(a.Shape != c.Shape);
        Assert.Equal(a.Shape, new Shape(2, 3, 5));
        Assert.Equal(a.Shape.GetHashCode(), b.Shape.GetHashCode());
        Assert.Equal(10, a.Shape.Select(d => d).Sum());         // an IReadOnlyList<int>: LINQ works
        ReadOnlySpan<int> span = a.Shape;                        // and a span wherever one is wanted
        Assert.Equal(3, span[1]);
        Assert.True(a.Shape is [2, _, 5]);
    }

    [Fact]
    public void A_shape_is_a_copy_that_cannot_change_the_tensor()
    {
        using var t = Tensor.Zeros(2, 3);
        var dims = t.Shape.ToArray();
        dims[0] = 99;
        Assert.Equal("[2, 3]", t.Shape.ToString());
        int[] mine = [4, 5];
        var s = new Shape(mine);
        mine[0] = 7;
        Assert.Equal("[4, 5]", s.ToString());
    }
}
