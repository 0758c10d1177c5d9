namespace Engine.Layers;

/// <summary>2-D max pooling (stride defaults to the kernel size).</summary>
public sealed class MaxPool2d(Size2d kernelSize, Size2d? stride = null, Padding2d? padding = null, Size2d? dilation = null, bool ceilMode = false) : Module
{
    /// <summary>The window.</summary>
    public Pool2dOptions Options { get; } = new(kernelSize) { Stride = stride, Padding = padding ?? 0, Dilation = dilation ?? 1, CeilMode = ceilMode };

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.MaxPool2d(Options);
}

/// <summary>2-D average pooling (stride defaults to the kernel size; padding counted unless told otherwise).</summary>
public sealed class AvgPool2d(Size2d kernelSize, Size2d? stride = null, Padding2d? padding = null, bool ceilMode = false, bool countIncludePad = true) : Module
{
    /// <summary>The window.</summary>
    public Pool2dOptions Options { get; } = new(kernelSize) { Stride = stride, Padding = padding ?? 0, CeilMode = ceilMode, CountIncludePad = countIncludePad };

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.AvgPool2d(Options);
}

/// <summary>
/// Average pooling to a fixed output size, whatever the input size: output cell (i, j) averages
/// input rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 and likewise columns (PyTorch's rule). (1, 1) is global
/// average pooling.
/// </summary>
public sealed class AdaptiveAvgPool2d(Size2d outputSize) : Module
{
    /// <summary>(oh, ow)</summary>
    public Size2d OutputSize { get; } = outputSize;

    /// <inheritdoc/>
    public override Variable Forward(Variable x)
    {
        if (x.Rank != 4) throw Errors.ShapeError("AdaptiveAvgPool2d", x.Shape, $"input must be [N, C, H, W] (rank 4), not rank {x.Rank}");
        int h = x.Size(2), w = x.Size(3), oh = OutputSize.H, ow = OutputSize.W;
        if (oh < 1 || ow < 1) throw Errors.ShapeError("AdaptiveAvgPool2d", x.Shape, $"output size {OutputSize} must be positive");
        if (oh == 1 && ow == 1) return x.GlobalAvgPool2d();
        if (h % oh == 0 && w % ow == 0) return x.AvgPool2d(new Pool2dOptions((h / oh, w / ow)));
        var rows = new List<Variable>();
        for (int i = 0; i < oh; i++)
        {
            int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh;
            var cells = new List<Variable>();
            for (int j = 0; j < ow; j++)
            {
                int w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
                cells.Add(x.Slice(2, h0, h1).Slice(3, w0, w1).Mean([2, 3], keepDim: true));
            }
            rows.Add(Variable.Concat(cells, 3));
        }
        return Variable.Concat(rows, 2);
    }
}

/// <summary>Global average pooling: [N, C, H, W] → [N, C, 1, 1].</summary>
public sealed class GlobalAvgPool2d : Module
{
    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.GlobalAvgPool2d();
}

/// <summary>Merges dims startDim … endDim (by default everything after the batch dim).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>The first dimension merged.</summary>
    public int StartDim => startDim;
    /// <summary>The last dimension merged (negative counts from the end).</summary>
    public int EndDim => endDim;

    /// <inheritdoc/>
    public override Variable Forward(Variable x) => x.Flatten(startDim, endDim);
}
