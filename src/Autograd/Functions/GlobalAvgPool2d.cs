namespace Engine.Functions;

/// <summary>Global average pooling: y[n, c, 0, 0] = (1/(H·W)) Σ_{i,j} x[n, c, i, j].</summary>
/// <remarks>∂L/∂x[n, c, i, j] = g[n, c, 0, 0] / (H·W)</remarks>
internal sealed class GlobalAvgPool2d : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw Errors.ShapeError("GlobalAvgPool2d", x.Shape, $"input must be [N, C, H, W] (rank 4), not rank {x.Rank}");
        return x.Mean([2, 3], keepDim: true);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var shape = InputShape(0);
        return [g.Expand(shape) / (shape[2] * shape[3])];
    }
}
