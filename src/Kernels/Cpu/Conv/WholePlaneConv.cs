namespace Engine.Kernels;

/// <summary>
/// Forward convolution where every output's window covers the whole input plane: a 3×3 kernel with padding 1
/// over a 1×1 map (a ResNet's last stage at 32×32 input), where 8 of the 9 taps fall in the padding. Then
/// each input pixel j = (ih, iw) meets output pixel p = (oh, ow) through exactly one tap,
/// t(p, j) = (ih − oh·sH + padTop, iw − ow·sW + padLeft), and
///   y[n, k·P + p] = Σ_{c, j} x[n, c·H·W + j] · w[k, c, t(p, j)]
/// is one product y[N × K·P] = X[N × C·H·W] · B with X the input and y the output as they lie in memory, and
/// B[c·H·W + j, k·P + p] = w[k, c, t(p, j)] gathered from w while packing (<see cref="TapGatherPanels{T}"/>):
/// H·W taps per output instead of R·S.
/// </summary>
internal static unsafe class WholePlaneConv
{
    /// <summary>One group, no dilation, and every window covering the whole plane.</summary>
    public static bool Applies(Conv2dGeometry g) =>
        g.Groups == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.PadTop - (g.OH - 1) * g.StrideH >= 0 && g.H - 1 + g.PadTop < g.R
        && g.PadLeft - (g.OW - 1) * g.StrideW >= 0 && g.W - 1 + g.PadLeft < g.S;

    /// <summary>
    /// B holds K·P·C·H·W gathered weights, more than the K·C·R·S of the ordinary product once P·H·W nears R·S,
    /// so it pays only where H·W·3 ≤ R·S (measured in docs/engine-core.md).
    /// </summary>
    public static bool Worthwhile(Conv2dGeometry g) => g.H * g.W * 3 <= g.R * g.S;

    public static void Forward<T>(Conv2dGeometry g, T* x, T* w, T* y) where T : unmanaged
    {
        int cj = g.C * g.H * g.W, kp = g.K * g.OH * g.OW;
        fixed (int* taps = Taps(g))
            Gemm.Run(g.N, kp, cj, x, cj, 1, new TapGatherPanels<T>(g, w, taps), y, kp, 1, accumulate: false, parallel: true);
    }

    /// <summary>taps[p·H·W + j]: the kernel tap r·S + s through which input pixel j reaches output pixel p.</summary>
    private static int[] Taps(Conv2dGeometry g)
    {
        int hw = g.H * g.W;
        var taps = new int[g.OH * g.OW * hw];
        for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++)
                for (int ih = 0; ih < g.H; ih++)
                    for (int iw = 0; iw < g.W; iw++)
                        taps[(oh * g.OW + ow) * hw + ih * g.W + iw] = (ih - oh * g.StrideH + g.PadTop) * g.S + iw - ow * g.StrideW + g.PadLeft;
        return taps;
    }
}
