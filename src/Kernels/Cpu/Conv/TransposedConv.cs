namespace Engine.Kernels;

/// <summary>
/// With stride 1, the input gradient is itself a convolution: of dy, padded by dilation·(kernel − 1) − pad on each
/// side, with the weights flipped in space and their two channel axes exchanged (per group):
///   dx[c, i, j] = Σ_{k,r,s} dy[k, i + padTop − r·dH, j + padLeft − s·dW] · w[k, c, r, s]
///              = Σ_{k,r',s'} dy_padded[k, i + r'·dH, j + s'·dW] · w[k, c, R−1−r', S−1−s'].
/// So backward-input runs a forward algorithm (<see cref="SmallMapsConv"/>, <see cref="DirectConv"/> or <see cref="DirectBatchConv"/>) on dy.
/// The padded dy is mostly padding on small maps (a 5×5 kernel on 10×10: half the (pixel, tap) pairs), which
/// <see cref="DirectBatchConv"/> skips.
/// </summary>
internal static unsafe class TransposedConv
{
    /// <summary>The forward geometry whose output is dx, or null when the stride is not 1 or a padding exceeds dilation·(kernel − 1).</summary>
    public static Conv2dGeometry? Geometry(Conv2dGeometry g)
    {
        if (g.StrideH != 1 || g.StrideW != 1) return null;
        int eh = g.DilationH * (g.R - 1), ew = g.DilationW * (g.S - 1);
        int pt = eh - g.PadTop, pb = eh - g.PadBottom, pl = ew - g.PadLeft, pr = ew - g.PadRight;
        if (pt < 0 || pb < 0 || pl < 0 || pr < 0) return null;
        return new Conv2dGeometry(g.N, g.K, g.OH, g.OW, g.C, g.R, g.S, 1, 1, pt, pl, pb, pr, g.DilationH, g.DilationW, g.Groups);
    }

    /// <summary>
    /// Flipping moves all K·C·R·S weights on every call: below 512 output pixels in the batch (N·OH·OW, the work per
    /// weight) that costs more than the plain backward products save (docs/engine-core.md).
    /// </summary>
    public static bool Worthwhile(Conv2dGeometry g) => (long)g.N * g.OH * g.OW >= 512;

    /// <summary>dx through the forward algorithm <paramref name="forward"/> (<see cref="Conv2dAlgorithm.SmallMaps"/>, <see cref="Conv2dAlgorithm.Direct"/> or <see cref="Conv2dAlgorithm.DirectBatch"/>).</summary>
    public static void BackwardInput<T>(Conv2dGeometry g, T* dy, T* w, T* dx, Conv2dAlgorithm forward) where T : unmanaged
    {
        var gt = Geometry(g) ?? throw new InvalidOperationException($"Conv2d: {g} has no transposed geometry");
        T* flipped = (T*)ThreadScratch.Get(ThreadScratch.Slot.Flipped, (long)g.C * g.Kg * g.R * g.S * sizeof(T));
        FlipWeights(g, w, flipped);
        if (forward == Conv2dAlgorithm.SmallMaps) SmallMapsConv.Forward(gt, dy, flipped, dx);
        else if (forward == Conv2dAlgorithm.DirectBatch) DirectBatchConv.Forward(gt, dy, flipped, dx);
        else DirectConv.Forward(gt, dy, flipped, dx);
    }

    /// <summary>wt[gr·Cg + c, k, r, s] = w[gr·Kg + k, c, R−1−r, S−1−s]: the weights of <see cref="Geometry"/>.</summary>
    private static void FlipWeights<T>(Conv2dGeometry g, T* w, T* wt) where T : unmanaged
    {
        // A transpose of (k, c) blocks of R·S values, in tiles of 32 × 32 blocks: walking one side in order
        // makes the other jump a page per block (docs/engine-core.md has the measurement).
        const int Tile = 32;
        int rs = g.R * g.S, cTiles = (g.Cg + Tile - 1) / Tile, kTiles = (g.Kg + Tile - 1) / Tile;
        nint pw = (nint)w, pwt = (nint)wt;
        int tiles = g.Groups * cTiles * kTiles;
        int parts = (long)g.K * g.Cg * rs >= StridedLoop.ParallelThreshold ? Math.Min(tiles, WorkerPool.Threads) : 1;
        WorkerPool.Run(parts, part =>
        {
            for (int tile = tiles * part / parts; tile < tiles * (part + 1) / parts; tile++)
            {
                int gr = tile / (cTiles * kTiles), c0 = tile / kTiles % cTiles * Tile, k0 = tile % kTiles * Tile;
                for (int k = k0; k < Math.Min(k0 + Tile, g.Kg); k++)
                    for (int c = c0; c < Math.Min(c0 + Tile, g.Cg); c++)
                    {
                        T* src = (T*)pw + ((long)(gr * g.Kg + k) * g.Cg + c) * rs;
                        T* dst = (T*)pwt + ((long)(gr * g.Cg + c) * g.Kg + k) * rs;
                        for (int i = 0; i < rs; i++) dst[i] = src[rs - 1 - i];
                    }
            }
        });
    }
}
