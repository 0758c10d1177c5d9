namespace Engine.Functions;

/// <summary>y = Σ x over the given axes (all when none), keeping them as size 1 or dropping them.</summary>
/// <remarks>∂L/∂x = g broadcast back over the summed axes: every element contributed with weight 1.</remarks>
internal sealed class Sum(int[] axes, bool keepDim) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Sum(axes, keepDim);

    protected override Variable?[] Backward(Variable g) => [ReduceAxes.Unreduce(g, InputShape(0), axes, keepDim)];
}

/// <summary>Helpers shared by the reductions' backward formulas.</summary>
internal static class ReduceAxes
{
    /// <summary>The reduced axes, normalized and sorted (all axes when none given).</summary>
    public static int[] Normalize(int[] axes, int rank)
    {
        if (axes.Length == 0) return [.. Enumerable.Range(0, rank)];
        return [.. axes.Select(a => a < 0 ? a + rank : a).Distinct().Order()];
    }

    /// <summary>The input shape with the reduced axes set to 1.</summary>
    public static int[] KeptShape(int[] shape, int[] axes)
    {
        var s = (int[])shape.Clone();
        foreach (int a in Normalize(axes, shape.Length)) s[a] = 1;
        return s;
    }

    /// <summary>g (the reduction's gradient) reshaped to keep-dim form and broadcast to the input shape.</summary>
    public static Variable Unreduce(Variable g, int[] inputShape, int[] axes, bool keepDim)
    {
        var kept = keepDim ? g : g.Reshape(KeptShape(inputShape, axes));
        return kept.Expand(inputShape);
    }

    /// <summary>How many elements each output of the reduction summarises.</summary>
    public static long Count(int[] shape, int[] axes) =>
        Normalize(axes, shape.Length).Aggregate(1L, (n, a) => n * shape[a]);
}
