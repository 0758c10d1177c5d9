namespace Engine.Tests;

/// <summary>What data-parallel training stands on: a leaf's gradient-ready hook, and tensors copied to and from spans.</summary>
public sealed class HooksAndSpansTests
{
    [Fact]
    public void A_grad_ready_hook_runs_once_after_every_contribution_has_arrived()
    {
        using var scope = Tensor.Scope();
        var a = new Variable(Tensor.FromArray(new double[] { 2 }), requiresGrad: true);
        var b = new Variable(Tensor.FromArray(new double[] { 5 }), requiresGrad: true);
        var seen = new List<(string, double)>();
        using var ha = a.OnGradReady(v => seen.Add(("a", v.Grad!.Data[0])));
        using var hb = b.OnGradReady(v => seen.Add(("b", v.Grad!.Data[0])));
        (a * b + a).Sum().Backward();                           // a is used twice: dL/da = b + 1 = 6
        Assert.Equal(2, seen.Count);
        Assert.Contains(("a", 6.0), seen);
        Assert.Contains(("b", 2.0), seen);
    }

    [Fact]
    public void A_removed_hook_does_not_run_and_only_leaves_take_hooks()
    {
        using var scope = Tensor.Scope();
        var a = new Variable(Tensor.FromArray(new double[] { 2 }), requiresGrad: true);
        int calls = 0;
        a.OnGradReady(_ => calls++).Dispose();
        (a * a).Sum().Backward();
        Assert.Equal(0, calls);
        var e = Assert.Throws<AutogradException>(() => (a * 2.0).OnGradReady(_ => { }));
        Assert.Contains("OnGradReady", e.Message);
    }

    [Fact]
    public void Tensors_copy_to_and_from_spans()
    {
        using var t = Tensor.Arange(0, 6).Reshape(2, 3);
        var values = new float[6];
        t.Transpose(0, 1).CopyTo<float>(values);                // a view is copied in row-major order of the view
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, values);
        t.CopyFrom<float>(new float[] { 9, 8, 7, 6, 5, 4 });
        Assert.Equal(new float[] { 9, 8, 7, 6, 5, 4 }, t.ToArray<float>());
    }

    [Fact]
    public void Span_copies_name_the_op_the_shapes_and_the_types()
    {
        using var t = Tensor.Zeros(2, 3);
        Assert.Contains("CopyTo", Assert.Throws<ShapeException>(() => t.CopyTo<float>(new float[5])).Message);
        Assert.Contains("[2, 3]", Assert.Throws<ShapeException>(() => t.CopyFrom<float>(new float[7])).Message);
        Assert.Contains("float32", Assert.Throws<DTypeException>(() => t.CopyTo<double>(new double[6])).Message);
        using var view = t.Transpose(0, 1);
        Assert.Contains("non-contiguous", Assert.Throws<ShapeException>(() => view.CopyFrom<float>(new float[6])).Message);
    }
}
