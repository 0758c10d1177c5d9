namespace Engine.Kernels;

/// <summary>The reductions along axes.</summary>
public enum ReduceOp
{
    /// <summary>Σ x (0 over an empty set)</summary>
    Sum,
    /// <summary>max x (NaN if any is NaN; an empty set is an error above the backend)</summary>
    Max,
    /// <summary>min x (NaN if any is NaN)</summary>
    Min,
}

/// <summary>The index-returning reductions; the first extreme wins ties, and NaN counts as the extreme.</summary>
public enum ArgReduceOp
{
    /// <summary>index of the largest element</summary>
    ArgMax,
    /// <summary>index of the smallest element</summary>
    ArgMin,
}

/// <summary>The distributions random fill draws from.</summary>
public enum RandomDistribution
{
    /// <summary>uniform on [low, high)</summary>
    Uniform,
    /// <summary>normal with mean and standard deviation</summary>
    Normal,
    /// <summary>uniform integers on [low, high)</summary>
    UniformInt,
}

/// <summary>
/// The geometry of a 2-D convolution over NCHW input [N, C, H, W] with weights [K, C/groups, R, S]
/// producing [N, K, OH, OW]. Padding may differ on each side (ONNX-style asymmetric pads).
/// </summary>
/// <remarks>
/// OH = ⌊(H + padTop + padBottom - dilationH·(R-1) - 1) / strideH⌋ + 1, and likewise OW.
/// </remarks>
public sealed record Conv2dGeometry(
    int N, int C, int H, int W, int K, int R, int S,
    int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationH, int DilationW, int Groups)
{
    /// <summary>Output height.</summary>
    public int OH => (H + PadTop + PadBottom - DilationH * (R - 1) - 1) / StrideH + 1;
    /// <summary>Output width.</summary>
    public int OW => (W + PadLeft + PadRight - DilationW * (S - 1) - 1) / StrideW + 1;
    /// <summary>Input channels per group.</summary>
    public int Cg => C / Groups;
    /// <summary>Output channels per group.</summary>
    public int Kg => K / Groups;
    /// <summary>Input shape [N, C, H, W].</summary>
    public int[] InputShape => [N, C, H, W];
    /// <summary>Weight shape [K, C/groups, R, S].</summary>
    public int[] WeightShape => [K, Cg, R, S];
    /// <summary>Output shape [N, K, OH, OW].</summary>
    public int[] OutputShape => [N, K, OH, OW];
    /// <summary>Multiply-adds of the forward pass.</summary>
    public long Macs => (long)N * K * OH * OW * Cg * R * S;
}

/// <summary>
/// The geometry of 2-D max or average pooling over NCHW input, with per-side padding,
/// dilation (max pooling only), ceil mode and, for average pooling, whether padding counts.
/// </summary>
/// <remarks>
/// Output size: (H + padTop + padBottom - dilationH·(KH-1) - 1) / strideH + 1, rounded down, or up
/// in ceil mode, where a last window that would start inside the bottom/right padding is dropped
/// (PyTorch's rule).
/// </remarks>
public sealed record Pool2dGeometry(
    int N, int C, int H, int W, int KH, int KW,
    int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationH = 1, int DilationW = 1, bool CeilMode = false, bool CountIncludePad = true)
{
    /// <summary>Output height.</summary>
    public int OH => OutSize(H, KH, StrideH, PadTop, PadBottom, DilationH);
    /// <summary>Output width.</summary>
    public int OW => OutSize(W, KW, StrideW, PadLeft, PadRight, DilationW);
    /// <summary>Input shape [N, C, H, W].</summary>
    public int[] InputShape => [N, C, H, W];
    /// <summary>Output shape [N, C, OH, OW].</summary>
    public int[] OutputShape => [N, C, OH, OW];

    private int OutSize(int size, int k, int stride, int padBegin, int padEnd, int dilation)
    {
        int span = size + padBegin + padEnd - dilation * (k - 1) - 1;
        if (span < 0) return 0;
        int o = (CeilMode ? (span + stride - 1) / stride : span / stride) + 1;
        if (CeilMode && (o - 1) * stride >= size + padBegin) o--;
        return o;
    }
}

/// <summary>
/// What a convolution's forward pass applies to each output value as it writes it: y = (conv + bias[k]) + residual
/// for output channel k (a ResNet block's shortcut), then max(y, 0) when <see cref="Relu"/>, each sum rounded in that
/// order. A backend applies it while the output tile is in registers or cache where it can (the CPU's direct kernel,
/// the GPU's implicit GEMM), or as one pass after the product.
/// </summary>
/// <param name="Bias">A contiguous [K] bias, or null.</param>
/// <param name="Relu">Whether max(·, 0) follows.</param>
/// <param name="Residual">A contiguous tensor of the output's shape added after the bias, or null.</param>
public readonly record struct ConvEpilogue(BufferView? Bias, bool Relu, BufferView? Residual = null)
{
    /// <summary>Nothing after the product.</summary>
    public static ConvEpilogue None => default;

    /// <summary>
    /// The epilogue as separate passes of <paramref name="backend"/>'s primitives over an output <paramref name="y"/> that
    /// already holds the product (where no kernel fuses it: a convolution without taps).
    /// </summary>
    public void ApplyAsPasses(IBackend backend, DType dtype, Conv2dGeometry g, in BufferView y)
    {
        if (Bias is { } b)
            backend.Binary(BinaryOp.Add, dtype, y, new BufferView(b.Buffer, new Layout(g.OutputShape, [0, b.Layout.Strides[0], 0, 0], b.Layout.Offset)), y);
        if (Residual is { } r) backend.Binary(BinaryOp.Add, dtype, y, r, y);
        if (Relu) backend.Unary(UnaryOp.Relu, dtype, y, y);
    }
}


/// <summary>Which taps of a window lie inside the input, along one axis (shared by the pooling and convolution kernels).</summary>
internal static class WindowTaps
{
    /// <summary>
    /// The taps [Lo, Hi) of a <paramref name="kernel"/>-tap window starting at input position <paramref name="start"/>
    /// (taps <paramref name="dilation"/> apart) that fall inside [0, <paramref name="size"/>); Lo == Hi when none do.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]   // called per output row
    public static (int Lo, int Hi) Inside(int start, int kernel, int dilation, int size)
    {
        int lo = 0, hi = kernel;
        while (lo < hi && start + lo * dilation < 0) lo++;
        while (hi > lo && start + (hi - 1) * dilation >= size) hi--;
        return (lo, hi);
    }
}
