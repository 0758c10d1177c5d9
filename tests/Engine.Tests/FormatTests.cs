namespace Engine.Tests;

/// <summary>ToString prints like PyTorch, plus shape, dtype and device.</summary>
public sealed class FormatTests
{
    [Fact]
    public void Prints_values_shape_dtype_and_device()
    {
        using var scope = Tensor.Scope();
        Assert.Equal("tensor([[ 1.5000, -2.0000],\n        [ 0.2500,  4.0000]], shape=[2, 2], dtype=float32, device=cpu)",
            Tensor.FromArray(new float[,] { { 1.5f, -2 }, { 0.25f, 4 } }).ToString());
        Assert.Equal("tensor([1., 2., 3.], shape=[3], dtype=float64, device=cpu)", Tensor.FromArray(new double[] { 1, 2, 3 }).ToString());
        Assert.Equal("tensor(7, shape=[], dtype=int64, device=cpu)", Tensor.Scalar(7, DType.Int64).ToString());
        Assert.Equal("tensor([ True, False], shape=[2], dtype=bool, device=cpu)", Tensor.FromArray(new[] { true, false }).ToString());
        Assert.Equal("tensor([], shape=[0], dtype=float32, device=cpu)", Tensor.Zeros(0).ToString());
        Assert.Equal("tensor([nan, inf,  1.], shape=[3], dtype=float32, device=cpu)", Tensor.FromArray(new[] { float.NaN, float.PositiveInfinity, 1 }).ToString());
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00], shape=[2], dtype=float32, device=cpu)", Tensor.FromArray(new[] { 1e-5f, 1 }).ToString());
    }

    [Fact]
    public void Large_tensors_are_summarized()
    {
        using var scope = Tensor.Scope();
        string s = Tensor.Arange(2000).ToString();
        Assert.Equal("tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=[2000], dtype=int64, device=cpu)", s);
        string m = Tensor.Arange(0, 2000, 1, DType.Int32).Reshape(100, 20).ToString();
        Assert.Contains("...", m);
        Assert.Equal(7, m.Split('\n').Length);            // three rows, the ellipsis, three rows
    }

    [Fact]
    public void Disposed_tensors_say_so()
    {
        var t = Tensor.Ones(2);
        t.Dispose();
        Assert.Equal("tensor(<disposed>)", t.ToString());
    }
}
