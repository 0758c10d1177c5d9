namespace Engine.Tests;

/// <summary>The backward engine's rules: ordering, accumulation, seeds, freed graphs, modes and misuse.</summary>
public sealed class BackwardTests
{
    private static Variable Leaf(params double[] v) => new(Tensor.FromArray(v), requiresGrad: true);

    [Fact]
    public void A_chain_of_100000_ops_needs_no_recursion()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(1.0);
        var y = x;
        for (int i = 0; i < 100_000; i++) y = y * 1.0;
        y.Sum().Backward();
        Assert.Equal(1.0, x.Grad!.Data[0]);
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_zeroed()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(3);
        (x * x).Sum().Backward();
        (x * x).Sum().Backward();
        Assert.Equal(12.0, x.Grad!.Data[0]);     // 6 + 6
        x.ZeroGrad();
        Assert.Null(x.Grad);
        (x * 2.0).Sum().Backward();
        x.ZeroGrad(setToNone: false);
        Assert.Equal(0.0, x.Grad!.Data[0]);
    }

    [Fact]
    public void Leaf_gradients_outlive_the_scope_of_the_step()
    {
        var w = new Parameter(Tensor.FromArray(new double[] { 1, 2 }), "w");
        using (Tensor.Scope())
            (w * w).Sum().Backward();
        Assert.Equal(new double[] { 2, 4 }, w.Grad!.Data.ToArray<double>());
        w.ZeroGrad();
    }

    [Fact]
    public void Leaf_gradients_never_share_memory_with_each_other_or_the_seed()
    {
        using var scope = Tensor.Scope();
        // a + b hands the same upstream tensor to both leaves: each must get its own copy
        var a = new Variable(Tensor.Ones(2, 3), requiresGrad: true);
        var b = new Variable(Tensor.Ones(2, 3), requiresGrad: true);
        var seed = Tensor.Full([2, 3], 2.0);
        (a + b).Backward(new Variable(seed));
        Assert.False(a.Grad!.Data.SharesStorageWith(b.Grad!.Data));
        Assert.False(a.Grad.Data.SharesStorageWith(seed));
        a.Grad.Data.MulInPlace(10);                  // clipping or scaling one gradient in place...
        Assert.All(b.Grad.Data.ToArray<float>(), v => Assert.Equal(2f, v));   // ...leaves the other alone
        Assert.All(seed.ToArray<float>(), v => Assert.Equal(2f, v));

        // a fresh product gradient is adopted, and a second delivery to the same leaf still adds up
        var x = new Variable(Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }), requiresGrad: true);
        var w = new Variable(Tensor.FromArray(new[] { 4.0, 5.0, 6.0 }), requiresGrad: true);
        var y = (x * w + x * 3).Sum();          // ∂/∂x = w + 3 (two deliveries), ∂/∂w = x
        y.Backward(retainGraph: true);
        Assert.Equal(new[] { 7.0, 8.0, 9.0 }, x.Grad!.Data.ToArray<double>());
        Assert.Equal(new[] { 1.0, 2.0, 3.0 }, w.Grad!.Data.ToArray<double>());
        Assert.False(x.Grad.Data.SharesStorageWith(w.Grad.Data));
        y.Backward();                           // accumulates into the adopted tensors
        Assert.Equal(new[] { 14.0, 16.0, 18.0 }, x.Grad.Data.ToArray<double>());
        Assert.Equal(new[] { 2.0, 4.0, 6.0 }, w.Grad.Data.ToArray<double>());
    }

    [Fact]
    public void A_non_scalar_root_needs_a_seed_of_its_shape()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(1, 2);
        var y = x * 2.0;
        var ex = Assert.Throws<AutogradException>(() => y.Backward());
        Assert.Contains("[2]", ex.Message);
        Assert.Contains("not a scalar", ex.Message);
        var bad = Assert.Throws<AutogradException>(() => y.Backward(new Variable(Tensor.Ones([3], DType.Float64))));
        Assert.Contains("[3]", bad.Message);
        Assert.Contains("[2]", bad.Message);
        y.Backward(new Variable(Tensor.FromArray(new double[] { 1, 10 })));
        Assert.Equal(new double[] { 2, 20 }, x.Grad!.Data.ToArray<double>());
    }

    [Fact]
    public void A_second_backward_through_a_freed_graph_is_an_error()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(2);
        var y = (x.Exp() * x).Sum();
        y.Backward();
        var ex = Assert.Throws<AutogradException>(() => y.Backward());
        Assert.Contains("freed", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
        var z = (x.Exp() * x).Sum();
        z.Backward(retainGraph: true);
        z.Backward();
        // d/dx (x eˣ) = (1 + x) eˣ; three backward passes in total
        Assert.Equal(3 * 3 * Math.Exp(2), x.Grad!.Data[0], 9);
    }

    [Fact]
    public void A_saved_tensor_changed_in_place_is_detected()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(1, 2);
        var a = x * 1.0;                      // a non-leaf saved by the next op
        var y = (a * a).Sum();
        a.Data.AddInPlace(Tensor.Ones([2], DType.Float64));
        var ex = Assert.Throws<AutogradException>(() => y.Backward());
        Assert.Contains("Mul", ex.Message);
        Assert.Contains("modified in place", ex.Message);
    }

    [Fact]
    public void NoGrad_and_Detach_stop_recording()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(1);
        using (GradMode.NoGrad())
        {
            var y = x * 2.0;
            Assert.False(y.RequiresGrad);
            Assert.Null(y.GradFn);
        }
        var d = (x * 2.0).Detach();
        Assert.True(d.IsLeaf);
        Assert.False(d.RequiresGrad);
        var ex = Assert.Throws<AutogradException>(() => (x * 2.0).SetRequiresGrad(false));
        Assert.Contains("only leaves", ex.Message);
        Assert.Throws<AutogradException>(() => new Variable(Tensor.Ones([1], DType.Int64), requiresGrad: true));
        Assert.Throws<AutogradException>(() => d.Sum().Backward());
    }

    [Fact]
    public void SetRequiresGrad_switches_a_leaf_and_returns_it_for_chaining()
    {
        using var scope = Tensor.Scope();
        var w = new Variable(Tensor.FromArray(new double[] { 1, 2 })).SetRequiresGrad();
        Assert.True(w.RequiresGrad);
        (w * 3.0).Sum().Backward();
        Assert.Equal(new double[] { 3, 3 }, w.Grad!.Data.ToArray<double>());
        Assert.Same(w, w.SetRequiresGrad(false));
        Assert.False(w.RequiresGrad);
        Assert.False((w * 3.0).RequiresGrad);
        var ex = Assert.Throws<AutogradException>(() => new Variable(Tensor.Ones([1], DType.Int64)).SetRequiresGrad());
        Assert.Contains("SetRequiresGrad", ex.Message);
    }

    [Fact]
    public void Anomaly_mode_names_the_op_and_the_call_site_in_forward()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(-1, 2);
        using var anomaly = GradMode.DetectAnomaly();
        var ex = Assert.Throws<AnomalyException>(() => x.Log());
        Assert.Contains("Log", ex.Message);
        Assert.Contains("[2]", ex.Message);
        Assert.Contains("BackwardTests.cs", ex.Message);
    }

    [Fact]
    public void Anomaly_mode_names_the_op_whose_backward_made_a_NaN()
    {
        using var scope = Tensor.Scope();
        var x = Leaf(0, 4);
        using var anomaly = GradMode.DetectAnomaly();
        var y = x.Sqrt().Sum();                   // √0 is fine; its derivative 1/(2√0) is not
        var ex = Assert.Throws<AnomalyException>(() => y.Backward());
        Assert.Contains("Sqrt backward", ex.Message);
        Assert.Contains("BackwardTests.cs", ex.Message);
    }

    [Fact]
    public void Double_backward_through_an_op_that_does_not_record_is_refused()
    {
        using var scope = Tensor.Scope();
        var x = new Variable(Tensor.Rand([1, 1, 4, 4], 0, 1, DType.Float64), requiresGrad: true);
        var y = Variable.Apply(new Unrecorded(), x).Sum();
        var ex = Assert.Throws<AutogradException>(() => Autograd.Grad([y], [x], createGraph: true));
        Assert.Contains("Unrecorded: second-order gradients through this op are not supported", ex.Message);
        // first-order gradients through it are fine
        Assert.Equal(2.0, Autograd.Grad([Variable.Apply(new Unrecorded(), x).Sum()], [x])[0].Data[0, 0, 1, 1]);
    }

    /// <summary>y = 2x, with a backward computed on tensors (not recorded) and declared so.</summary>
    private sealed class Unrecorded : UnaryFunction
    {
        protected override bool SupportsDoubleBackward => false;
        protected override Tensor Forward(Tensor x) => x * 2;
        protected override Variable?[] Backward(Variable g) => [new Variable(g.Data * 2)];
    }

    [Fact]
    public void The_graph_dumps_as_mermaid_and_dot()
    {
        using var scope = Tensor.Scope();
        var w = new Parameter(Tensor.Ones([3, 2], DType.Float64), "layer.weight");
        var x = new Variable(Tensor.Ones([4, 3], DType.Float64));
        var y = x.MatMul(w).Relu().Sum();
        string m = y.ToMermaid();
        Assert.StartsWith("flowchart BT", m);
        Assert.Contains("layer.weight [3, 2] float64", m);
        Assert.Contains("MatMul [4, 2] float64", m);
        Assert.Contains("Relu [4, 2] float64", m);
        Assert.Contains("Sum [] float64", m);
        Assert.Equal(4, m.Split("-->").Length - 1);                  // x, w → MatMul → Relu → Sum
        string d = y.ToDot();
        Assert.StartsWith("digraph G {", d);
        Assert.Contains("label=\"MatMul [4, 2] float64\", shape=box", d);
        Assert.Equal(4, d.Split("->").Length - 1);
    }

    [Fact]
    public void GradCheck_reports_the_function_input_element_and_both_values()
    {
        using var scope = Tensor.Scope();
        var r = GradCheck.Run(v => Variable.Apply(new WrongSquare(), v[0]), [Tensor.FromArray(new double[] { 1, 2, 3 })], name: "WrongSquare");
        Assert.False(r.Passed);
        Assert.Contains("WrongSquare", r.Failure);
        Assert.Contains("input 0", r.Failure);
        Assert.Contains("element 0", r.Failure);
        Assert.Contains("analytic 3", r.Failure);      // the wrong 3x at x = 1
        Assert.Contains("numeric 2", r.Failure);       // the true 2x
        Assert.Throws<GradCheckException>(() => GradCheck.Assert(v => Variable.Apply(new WrongSquare(), v[0]), [Tensor.FromArray(new double[] { 1 })]));
        Assert.Throws<EngineException>(() => GradCheck.Run(v => v[0], [Tensor.Ones([1])]));
    }

    /// <summary>A user-defined function with a deliberately wrong derivative (3x instead of 2x).</summary>
    private sealed class WrongSquare : UnaryFunction
    {
        protected override Tensor Forward(Tensor x)
        {
            SaveInputs();
            return x * x;
        }

        protected override Variable?[] Backward(Variable g) => [g * Saved(0) * 3.0];
    }
}
