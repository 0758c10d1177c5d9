namespace Engine.Functions;

/// <summary>y = Σ(x − x̄)² / (n − c) over the given axes (c the correction: 1 for Bessel's, PyTorch's default).</summary>
/// <remarks>∂L/∂x = g · 2(x − x̄) / (n − c)   (the Σ(x − x̄) = 0 term of ∂x̄ drops out)</remarks>
internal sealed class Var(int[] axes, int correction, bool keepDim) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Var(axes, keepDim, correction);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0);
        var shape = InputShape(0);
        long n = ReduceAxes.Count(shape, axes);
        var centered = x - x.Mean(ReduceAxes.Normalize(axes, shape.Length), keepDim: true);
        return [ReduceAxes.Unreduce(g, shape, axes, keepDim) * centered * (2.0 / Math.Max(n - correction, 0))];
    }
}
