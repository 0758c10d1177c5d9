namespace Engine.Tests;

/// <summary>A user's own op, written outside the engine as docs/autograd.md shows: forward, backward, GradCheck.</summary>
public sealed class CustomFunctionTests
{
    /// <summary>y = x³.</summary>
    /// <remarks>∂L/∂x = g · 3x²</remarks>
    private sealed class Cube : UnaryFunction
    {
        protected override Tensor Forward(Tensor x)
        {
            SaveInputs();
            using var square = x.Square();
            return square * x;
        }

        protected override Variable?[] Backward(Variable g) => [g * Saved(0).Square() * 3.0];
    }

    /// <summary>The same forward with a wrong derivative, 2x² instead of 3x².</summary>
    private sealed class WrongCube : UnaryFunction
    {
        protected override Tensor Forward(Tensor x)
        {
            SaveInputs();
            using var square = x.Square();
            return square * x;
        }

        protected override Variable?[] Backward(Variable g) => [g * Saved(0).Square() * 2.0];
    }

    private static Tensor Sample() => Tensor.FromArray(new double[] { 1, -2, 3, 0.5, -1.5, 2.5 }, 2, 3);

    [Fact]
    public void A_custom_cube_runs_forward_and_backward()
    {
        using var scope = Tensor.Scope();
        // y = x³ at x = [1, -2, 3]: y = [1, -8, 27];  L = Σy, so dL/dx = 3x² = [3, 12, 27]
        var x = new Variable(Tensor.FromArray(new double[] { 1, -2, 3 }), requiresGrad: true);
        var y = new Cube().Apply(x);
        Assert.Equal(new double[] { 1, -8, 27 }, y.Data.ToArray<double>());
        Assert.Equal("Cube", y.GradFn!.Name);
        y.Sum().Backward();
        Assert.Equal(new double[] { 3, 12, 27 }, x.Grad!.Data.ToArray<double>());
    }

    [Fact]
    public void A_custom_cube_passes_gradcheck_to_second_order()
    {
        using var scope = Tensor.Scope();
        GradCheck.Assert(v => new Cube().Apply(v[0]), [Sample()], name: "Cube");
        GradCheck.AssertGradGrad(v => new Cube().Apply(v[0]), [Sample()], name: "Cube");
    }

    [Fact]
    public void Gradcheck_reports_a_custom_op_with_a_wrong_backward()
    {
        using var scope = Tensor.Scope();
        var r = GradCheck.Run(v => new WrongCube().Apply(v[0]), [Sample()], name: "WrongCube");
        Assert.False(r.Passed);
        Assert.Contains("WrongCube", r.Failure);
        Assert.Throws<GradCheckException>(() => GradCheck.Assert(v => new WrongCube().Apply(v[0]), [Sample()], name: "WrongCube"));
    }

    [Fact]
    public void A_function_object_is_one_node_and_cannot_be_applied_twice()
    {
        using var scope = Tensor.Scope();
        var x = new Variable(Sample(), requiresGrad: true);
        var cube = new Cube();
        cube.Apply(x);
        var ex = Assert.Throws<AutogradException>(() => cube.Apply(x));
        Assert.Contains("Cube", ex.Message);
        Assert.Contains("create a new one", ex.Message);
        Assert.Throws<AutogradException>(() => new Cube().Apply(x, x));
    }
}
