namespace Engine.Kernels;

/// <summary>Which of the three products of a convolution: y from x, dx from dy, dW from x and dy.</summary>
public enum ConvDirection
{
    /// <summary>y from x and the weights.</summary>
    Forward,

    /// <summary>dx from dy and the weights.</summary>
    BackwardInput,

    /// <summary>dW from x and dy.</summary>
    BackwardWeight,
}

/// <summary>The CPU backend's ways of computing a convolution; each lives in its own file under src/Kernels/Cpu/Conv.</summary>
public enum Conv2dAlgorithm
{
    /// <summary>Per image: the column matrix (built whole, or packed panel by panel) times the weights; col2im for dx.</summary>
    Im2Col,

    /// <summary>1×1, stride 1, no padding: the image is its own column matrix, so each direction is a plain product.</summary>
    Pointwise,

    /// <summary>Forward and weight gradient by a register-blocked kernel reading a zero-padded copy of the image, no column matrix.</summary>
    Direct,

    /// <summary>Tiny output maps: the whole batch's columns as one matrix, so each direction is one product.</summary>
    SmallMaps,

    /// <summary>Forward where every window covers the whole input plane (1×1 maps under a padded 3×3): one product with gathered weights.</summary>
    WholePlane,

    /// <summary>
    /// Forward by the direct kernel over the whole batch, pixels grouped by which taps of their window lie inside the image,
    /// taps in the padding skipped (no padded copy): less arithmetic on small maps (4 of 9 taps at 2×2 under a padded 3×3).
    /// </summary>
    DirectBatch,

    /// <summary>dx as a forward convolution of dy with flipped weights (stride 1), through <see cref="SmallMaps"/>.</summary>
    TransposedSmallMaps,

    /// <summary>dx as a forward convolution of dy with flipped weights (stride 1), through <see cref="Direct"/>.</summary>
    TransposedDirect,

    /// <summary>dx as a forward convolution of dy with flipped weights (stride 1), through <see cref="DirectBatch"/>: the padding of dy skipped.</summary>
    TransposedDirectBatch,
}

/// <summary>
/// The choice of convolution algorithm, in one place: <see cref="Choose"/> says which algorithm a geometry
/// and direction get, <see cref="Applies"/> which ones can compute it at all, and <see cref="Force"/> overrides
/// the choice for the calling thread in a scope (tests run every applicable algorithm; benchmarks time them).
/// Why each rule stands where it does is measured in docs/engine-core.md.
/// </summary>
public static class Conv2dAlgorithms
{
    /// <summary>Output maps up to this many pixels (and more than one image) take <see cref="Conv2dAlgorithm.SmallMaps"/>.</summary>
    public const int SmallMapPixels = 16;

    /// <summary>Below this many taps per output (C/g·R·S) the direct kernel's transposed stores outweigh its arithmetic.</summary>
    public const int DirectMinTaps = 64;

    /// <summary>The algorithm this thread's convolution of geometry <paramref name="g"/> uses in <paramref name="direction"/>.</summary>
    public static Conv2dAlgorithm Choose(Conv2dGeometry g, ConvDirection direction)
    {
        if (KernelChoices.Current?.Conv is { } forced && Applies(forced, g, direction)) return forced;
        var gt = direction == ConvDirection.BackwardInput ? TransposedConv.Geometry(g) : null;
        return direction switch
        {
            ConvDirection.Forward =>
                WholePlaneConv.Applies(g) && WholePlaneConv.Worthwhile(g) ? Conv2dAlgorithm.WholePlane
                : DirectBatchConv.Applies(g) && DirectBatchConv.Worthwhile(g) ? Conv2dAlgorithm.DirectBatch
                : SmallMapsConv.Worthwhile(g) && !DirectConv.WideBeatsSmallMaps(g) ? Conv2dAlgorithm.SmallMaps
                : DirectConv.Applies(g) && DirectConv.Worthwhile(g) ? Conv2dAlgorithm.Direct
                : IsPointwise(g) ? Conv2dAlgorithm.Pointwise
                : Conv2dAlgorithm.Im2Col,
            ConvDirection.BackwardInput =>
                gt is not null && TransposedConv.Worthwhile(g) && DirectBatchConv.Applies(gt) && DirectBatchConv.Worthwhile(gt) ? Conv2dAlgorithm.TransposedDirectBatch
                : gt is not null && TransposedConv.Worthwhile(g) && SmallMapsConv.Worthwhile(gt) ? Conv2dAlgorithm.TransposedSmallMaps
                : gt is not null && TransposedConv.Worthwhile(g) && DirectConv.Applies(gt) && DirectConv.Worthwhile(gt) && gt.Kg >= 16
                    ? Conv2dAlgorithm.TransposedDirect
                : SmallMapsConv.Worthwhile(g) ? Conv2dAlgorithm.SmallMaps
                : IsPointwise(g) ? Conv2dAlgorithm.Pointwise
                : Conv2dAlgorithm.Im2Col,
            ConvDirection.BackwardWeight =>
                SmallMapsConv.Worthwhile(g) ? Conv2dAlgorithm.SmallMaps
                : DirectConv.Applies(g) && DirectConv.WeightGradientWorthwhile(g) ? Conv2dAlgorithm.Direct
                : IsPointwise(g) ? Conv2dAlgorithm.Pointwise
                : Conv2dAlgorithm.Im2Col,
            _ => throw new ArgumentOutOfRangeException(nameof(direction)),
        };
    }

    /// <summary>Whether <paramref name="algorithm"/> can compute <paramref name="direction"/> of geometry <paramref name="g"/> on this machine (fast or not).</summary>
    public static bool Applies(Conv2dAlgorithm algorithm, Conv2dGeometry g, ConvDirection direction) => algorithm switch
    {
        Conv2dAlgorithm.Im2Col or Conv2dAlgorithm.SmallMaps => true,
        Conv2dAlgorithm.Pointwise => IsPointwise(g),
        Conv2dAlgorithm.Direct => direction != ConvDirection.BackwardInput && DirectConv.Applies(g),
        Conv2dAlgorithm.DirectBatch => direction == ConvDirection.Forward && DirectBatchConv.Applies(g),
        Conv2dAlgorithm.WholePlane => direction == ConvDirection.Forward && WholePlaneConv.Applies(g),
        Conv2dAlgorithm.TransposedSmallMaps => direction == ConvDirection.BackwardInput && TransposedConv.Geometry(g) is not null,
        Conv2dAlgorithm.TransposedDirect => direction == ConvDirection.BackwardInput && TransposedConv.Geometry(g) is { } gt && DirectConv.Applies(gt),
        Conv2dAlgorithm.TransposedDirectBatch => direction == ConvDirection.BackwardInput && TransposedConv.Geometry(g) is { } gb && DirectBatchConv.Applies(gb),
        _ => false,
    };

    /// <summary>Every algorithm that can compute this direction of the geometry here.</summary>
    public static IReadOnlyList<Conv2dAlgorithm> Candidates(Conv2dGeometry g, ConvDirection direction) =>
        Enum.GetValues<Conv2dAlgorithm>().Where(a => Applies(a, g, direction)).ToArray();

    /// <summary>
    /// Until the returned scope is disposed (on this thread), convolutions this thread runs use
    /// <paramref name="algorithm"/> in every direction where it <see cref="Applies"/>, and their own choice elsewhere.
    /// Other threads are unaffected; the worker threads of this thread's kernels follow it.
    /// </summary>
    public static IDisposable Force(Conv2dAlgorithm algorithm) => KernelChoices.With(c => c with { Conv = algorithm });

    internal static bool IsPointwise(Conv2dGeometry g) =>
        g.R == 1 && g.S == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;

}
