namespace Engine;

/// <summary>A height and width (kernel size, stride, dilation); an int means the same for both.</summary>
/// <param name="H">Along height.</param>
/// <param name="W">Along width.</param>
public readonly record struct Size2d(int H, int W)
{
    /// <summary>The same size along both axes.</summary>
    public static implicit operator Size2d(int s) => new(s, s);

    /// <summary>(height, width).</summary>
    public static implicit operator Size2d((int H, int W) s) => new(s.H, s.W);

    /// <inheritdoc/>
    public override string ToString() => H == W ? $"{H}" : $"({H}, {W})";
}

/// <summary>Zero padding on each side of a 2-D input; may be asymmetric (ONNX's <c>pads</c>).</summary>
/// <remarks>
/// The constructor's order is ONNX's, (top, left, bottom, right), which is not the order of
/// <see cref="Tensor.Pad"/> and PyTorch's <c>F.pad</c>, (left, right, top, bottom). Name the sides,
/// <c>new Padding2d(Top: 1, Left: 0, Bottom: 0, Right: 1)</c>, or build it in the <c>F.pad</c> order
/// with <see cref="FromPad"/>; <see cref="ToPad"/> gives the amounts for <see cref="Tensor.Pad"/>.
/// </remarks>
/// <param name="Top">Rows added above.</param>
/// <param name="Left">Columns added on the left.</param>
/// <param name="Bottom">Rows added below.</param>
/// <param name="Right">Columns added on the right.</param>
public readonly record struct Padding2d(int Top, int Left, int Bottom, int Right)
{
    /// <summary>The same padding on all four sides.</summary>
    public static implicit operator Padding2d(int p) => new(p, p, p, p);

    /// <summary>Symmetric padding: (rows above and below, columns left and right).</summary>
    public static implicit operator Padding2d((int H, int W) p) => new(p.H, p.W, p.H, p.W);

    /// <summary>The padding given in <see cref="Tensor.Pad"/>'s (PyTorch <c>F.pad</c>) order: the last dim (width) first.</summary>
    /// <param name="left">Columns added on the left.</param>
    /// <param name="right">Columns added on the right.</param>
    /// <param name="top">Rows added above.</param>
    /// <param name="bottom">Rows added below.</param>
    public static Padding2d FromPad(int left, int right, int top, int bottom) => new(top, left, bottom, right);

    /// <summary>The amounts in <see cref="Tensor.Pad"/>'s order, [left, right, top, bottom], so <c>x.Pad(p.ToPad())</c> pads as a convolution with <c>p</c> does.</summary>
    public int[] ToPad() => [Left, Right, Top, Bottom];

    /// <summary>True when any side is negative.</summary>
    public bool AnyNegative => Top < 0 || Left < 0 || Bottom < 0 || Right < 0;

    /// <inheritdoc/>
    public override string ToString() =>
        Top == Bottom && Left == Right ? (Top == Left ? $"{Top}" : $"({Top}, {Left})") : $"(top {Top}, left {Left}, bottom {Bottom}, right {Right})";
}

/// <summary>How a 2-D convolution slides: stride, padding, dilation, groups.</summary>
public sealed record Conv2dOptions
{
    /// <summary>Step between windows (default 1).</summary>
    public Size2d Stride { get; init; } = 1;
    /// <summary>Zero padding (default none).</summary>
    public Padding2d Padding { get; init; } = 0;
    /// <summary>Spacing between kernel taps (default 1).</summary>
    public Size2d Dilation { get; init; } = 1;
    /// <summary>Channel groups; input and output channels must both divide by it (default 1).</summary>
    public int Groups { get; init; } = 1;
}

/// <summary>How a 2-D pooling window slides.</summary>
/// <param name="Kernel">The window size.</param>
public sealed record Pool2dOptions(Size2d Kernel)
{
    /// <summary>Step between windows (default: the kernel size).</summary>
    public Size2d? Stride { get; init; }
    /// <summary>Padding, at most half the kernel on each side (default none).</summary>
    public Padding2d Padding { get; init; } = 0;
    /// <summary>Spacing between window taps (max pooling; default 1).</summary>
    public Size2d Dilation { get; init; } = 1;
    /// <summary>Round the output size up instead of down.</summary>
    public bool CeilMode { get; init; }
    /// <summary>Average pooling: padded zeros count in the divisor (PyTorch's default, true).</summary>
    public bool CountIncludePad { get; init; } = true;
}
