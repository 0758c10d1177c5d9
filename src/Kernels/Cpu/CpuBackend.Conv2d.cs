using System.Runtime.Intrinsics;

namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    // Convolution as im2col + GEMM. For one image and one group, the column matrix
    //   col[(c·R + r)·S + s, oh·OW + ow] = x[c, oh·strideH - padTop + r·dilH, ow·strideW - padLeft + s·dilW]
    // (0 where that falls in the padding) turns the convolution into matrix products:
    //   forward          y[k, p]  = Σ_q w[k, q] · col[q, p]            (Kg × CgRS) · (CgRS × P)
    //   backward-input   dcol     = wᵀ · dy, then col2im adds dcol back into dx
    //   backward-weight  dw[k, q] = Σ_images Σ_p dy[k, p] · col[q, p]   (Kg × P) · (P × CgRS)
    // The forward pass never stores col: Im2ColPanels packs its blocks straight from x into the
// GEMM's panels. A 1×1 convolution with stride 1 and no padding needs no column matrix at all.
    // Images are spread over threads (each with its own column buffer) when there are enough of
    // them; otherwise each product is split over threads instead.

    /// <inheritdoc/>
    public void Conv2dForward(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView w, in BufferView y)
    {
        if (dtype == DType.Float32) ConvForward<float>(g, Addr<float>(x), Addr<float>(w), Addr<float>(y));
        else if (dtype == DType.Float64) ConvForward<double>(g, Addr<double>(x), Addr<double>(w), Addr<double>(y));
        else throw Unsupported("Conv2d", dtype);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardInput(DType dtype, Conv2dGeometry g, in BufferView dy, in BufferView w, in BufferView dx)
    {
        if (dtype == DType.Float32) ConvBackwardInput<float>(g, Addr<float>(dy), Addr<float>(w), Addr<float>(dx));
        else if (dtype == DType.Float64) ConvBackwardInput<double>(g, Addr<double>(dy), Addr<double>(w), Addr<double>(dx));
        else throw Unsupported("Conv2dBackwardInput", dtype);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView dy, in BufferView dw)
    {
        if (dtype == DType.Float32) ConvBackwardWeight<float>(g, Addr<float>(x), Addr<float>(dy), Addr<float>(dw));
        else if (dtype == DType.Float64) ConvBackwardWeight<double>(g, Addr<double>(x), Addr<double>(dy), Addr<double>(dw));
        else throw Unsupported("Conv2dBackwardWeight", dtype);
    }

    /// <summary>Column matrices up to this size are built whole; larger ones are packed panel by panel.</summary>
    private const long SmallColumnBytes = 256 << 10;

    /// <summary>Use <see cref="DirectConv"/> where it applies (tests switch it off to check the GEMM path too).</summary>
    internal static bool UseDirectConv = true;

    private static bool IsPointwise(Conv2dGeometry g) =>
        g.R == 1 && g.S == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;

    /// <summary>Runs image(n, parallelGemm) for every image: one task per image when there are enough, else each product split.</summary>
    private static void ForImages(Conv2dGeometry g, Action<int, bool> image)
    {
        if (g.N >= WorkerPool.Threads && g.Macs >= Gemm.ParallelMacs)
            WorkerPool.Run(g.N, n => image(n, false));
        else
            for (int n = 0; n < g.N; n++) image(n, true);
    }

    /// <summary>Output maps up to this many pixels (and more than one image) go through the batched products of <see cref="SmallMaps"/>.</summary>
    internal const int SmallMapPixels = 16;

    private static void ConvForward<T>(Conv2dGeometry g, nint px, nint pw, nint py) where T : unmanaged
    {
        if (WholePlaneWindows(g))
        {
            ConvForwardWholePlane<T>(g, px, pw, py);
            return;
        }
        if (SmallMaps(g))
        {
            ConvForwardSmallMaps<T>(g, px, pw, py);
            return;
        }
        if (UseDirectConv && DirectConv.Applies(g))
        {
            DirectConv.Forward(g, (T*)px, (T*)pw, (T*)py);
            return;
        }
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, HW = g.H * g.W;
        bool pointwise = IsPointwise(g);
        ForImages(g, (n, par) =>
        {
            for (int gr = 0; gr < g.Groups; gr++)
            {
                T* xg = (T*)px + ((long)n * g.C + gr * g.Cg) * HW;
                T* wg = (T*)pw + (long)gr * g.Kg * Q;
                T* yg = (T*)py + ((long)n * g.K + gr * g.Kg) * P;
                if (pointwise)
                    Gemm.Run(g.Kg, P, Q, wg, Q, 1, xg, P, 1, yg, P, 1, accumulate: false, parallel: par);
                else if ((long)Q * P * sizeof(T) <= SmallColumnBytes)
                {
                    // a small column matrix (few taps, as in a first layer) stays in cache: build it
                    // with row copies and let the GEMM read it in place
                    T* col = (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)Q * P * sizeof(T));
                    Im2Col(g, xg, col);
                    Gemm.Run(g.Kg, P, Q, wg, Q, 1, col, P, 1, yg, P, 1, accumulate: false, parallel: par);
                }
                else
                    Gemm.Run(g.Kg, P, Q, wg, Q, 1, new Im2ColPanels<T>(g, xg), yg, P, 1, accumulate: false, parallel: par);
            }
        });
    }

    // ---- tiny output maps: the whole batch in one product ------------------------------------------
    //
    // A ResNet's last stages work on 4×4 and 2×2 maps: per image, the products above would be K × (a few
    // pixels) × C·R·S, far too narrow for the GEMM (and for DirectConv's pixel blocks). Instead the whole
    // batch's columns form one matrix col[C·R·S, N·P] (column n·P + p is pixel p of image n), and
    //   forward          y'[K, N·P]   = w[K, Q] · col                 then y[n, k, p] = y'[k, n·P + p]
    //   backward-input   dcol[Q, N·P] = wᵀ · dy'                      then col2im per image
    //   backward-weight  dw[K, Q]     = dy'[K, N·P] · colᵀ
    // where dy'[k, n·P + p] = dy[n, k, p]. Each is one product large enough for the GEMM's blocking.

    /// <summary>Use the batched products above for output maps of at most <see cref="SmallMapPixels"/> pixels (tests switch it off).</summary>
    internal static bool UseSmallMaps = true;

    private static bool SmallMaps(Conv2dGeometry g) => UseSmallMaps && g.OH * g.OW <= SmallMapPixels && g.N > 1;

    // ---- windows that cover the whole input plane ----------------------------------------------------
    //
    // On the smallest maps every output's window covers the whole input plane: a 3×3 kernel with padding 1
    // over a 1×1 map (a ResNet's last stage at 32×32 input), where 8 of the 9 taps fall in the padding. Then
    // each input pixel j = (ih, iw) meets output pixel p = (oh, ow) through exactly one tap,
    // t(p, j) = (ih − oh·sH + padTop, iw − ow·sW + padLeft), and
    //   y[n, k·P + p] = Σ_{c, j} x[n, c·H·W + j] · w[k, c, t(p, j)]
    // is one product y[N × K·P] = X[N × C·H·W] · B with X the input and y the output as they lie in memory, and
    // B[c·H·W + j, k·P + p] = w[k, c, t(p, j)] gathered from w while packing: H·W taps per output instead of R·S.

    /// <summary>Use the whole-plane product above where it applies (tests switch it off).</summary>
    internal static bool UseWholePlane = true;

    /// <remarks>
    /// B holds K·P·C·H·W gathered weights, more than the K·C·R·S of the ordinary product once P·H·W nears R·S:
    /// measured on 32 images, 512 channels, 3×3, padding 1, a 1×1 map ran 2.8× faster this way (0.84 against
    /// 2.37 ms) but a 2×2 map 18 % slower (7.7 against 6.5 ms), so it is taken only where H·W·3 ≤ R·S.
    /// </remarks>
    private static bool WholePlaneWindows(Conv2dGeometry g) =>
        UseWholePlane && g.Groups == 1 && g.DilationH == 1 && g.DilationW == 1 && g.H * g.W * 3 <= g.R * g.S
        && g.PadTop - (g.OH - 1) * g.StrideH >= 0 && g.H - 1 + g.PadTop < g.R
        && g.PadLeft - (g.OW - 1) * g.StrideW >= 0 && g.W - 1 + g.PadLeft < g.S;

    /// <summary>taps[p·H·W + j]: the kernel tap r·S + s through which input pixel j reaches output pixel p.</summary>
    private static int[] WholePlaneTaps(Conv2dGeometry g)
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

    private static void ConvForwardWholePlane<T>(Conv2dGeometry g, nint px, nint pw, nint py) where T : unmanaged
    {
        int cj = g.C * g.H * g.W, kp = g.K * g.OH * g.OW;
        fixed (int* taps = WholePlaneTaps(g))
            Gemm.Run(g.N, kp, cj, (T*)px, cj, 1, new TapGatherPanels<T>(g, (T*)pw, taps), (T*)py, kp, 1, accumulate: false, parallel: true);
    }

    /// <summary>
    /// source[(r·S + s)·P + p]: the offset within a channel plane that tap (r, s) of output pixel p reads, or −1
    /// where it falls in the padding.
    /// </summary>
    private static int[] SmallMapSources(Conv2dGeometry g)
    {
        int P = g.OH * g.OW;
        var source = new int[g.R * g.S * P];
        for (int r = 0; r < g.R; r++)
            for (int s = 0; s < g.S; s++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        int ih = oh * g.StrideH - g.PadTop + r * g.DilationH, iw = ow * g.StrideW - g.PadLeft + s * g.DilationW;
                        source[(r * g.S + s) * P + oh * g.OW + ow] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? ih * g.W + iw : -1;
                    }
        return source;
    }

    /// <summary>col[Q, N·P] of group <paramref name="gr"/> for the whole batch, images spread over threads.</summary>
    private static void BatchIm2Col<T>(Conv2dGeometry g, int gr, T* x, int* source, T* col) where T : unmanaged
    {
        int P = g.OH * g.OW, RS = g.R * g.S, HW = g.H * g.W;
        long np = (long)g.N * P;
        nint px = (nint)x, psrc = (nint)source, pcol = (nint)col;
        int parts = Math.Min(g.N, WorkerPool.Threads);
        WorkerPool.Run(parts, part =>
        {
            for (int n = g.N * part / parts; n < g.N * (part + 1) / parts; n++)
            {
                T* xc = (T*)px + ((long)n * g.C + gr * g.Cg) * HW;
                T* dst = (T*)pcol + (long)n * P;
                for (int c = 0; c < g.Cg; c++, xc += HW)
                    for (int t = 0; t < RS; t++, dst += np)
                    {
                        int* offsets = (int*)psrc + t * P;
                        for (int p = 0; p < P; p++) dst[p] = offsets[p] >= 0 ? xc[offsets[p]] : default;
                    }
            }
        });
    }

    /// <summary>dy'[Kg, N·P] of group <paramref name="gr"/>: dy'[k, n·P + p] = dy[n, gr·Kg + k, p].</summary>
    private static void BatchRows<T>(Conv2dGeometry g, int gr, T* dy, T* rows) where T : unmanaged
    {
        int P = g.OH * g.OW;
        long np = (long)g.N * P;
        for (int n = 0; n < g.N; n++)
            for (int k = 0; k < g.Kg; k++)
                new ReadOnlySpan<T>(dy + ((long)n * g.K + gr * g.Kg + k) * P, P).CopyTo(new Span<T>(rows + k * np + (long)n * P, P));
    }

    private static void ConvForwardSmallMaps<T>(Conv2dGeometry g, nint px, nint pw, nint py) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S;
        long np = (long)g.N * P;
        // the scratch buffers are reused from call to call: fresh pages would cost more than the arithmetic
        T* tmp = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapProducts, g.Kg * np * sizeof(T));
        fixed (int* source = SmallMapSources(g))
            for (int gr = 0; gr < g.Groups; gr++)
            {
                // the columns are packed straight from x into the GEMM's panels (measured 1-1.4 ms faster at 256 × 4 × 4
                // than building col first)
                Gemm.Run(g.Kg, (int)np, Q, (T*)pw + (long)gr * g.Kg * Q, Q, 1, new BatchIm2ColPanels<T>(g, (T*)px, gr, source), tmp, np, 1, accumulate: false, parallel: true);
                for (int n = 0; n < g.N; n++)
                    for (int k = 0; k < g.Kg; k++)
                        new ReadOnlySpan<T>(tmp + k * np + (long)n * P, P).CopyTo(new Span<T>((T*)py + ((long)n * g.K + gr * g.Kg + k) * P, P));
            }
    }

    private static void ConvBackwardInputSmallMaps<T>(Conv2dGeometry g, nint pdy, nint pw, nint pdx) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, RS = g.R * g.S, HW = g.H * g.W;
        long np = (long)g.N * P;
        T* dcol = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapColumns, Q * np * sizeof(T));
        T* rows = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapProducts, g.Kg * np * sizeof(T));
        new Span<T>((T*)pdx, checked(g.N * g.C * HW)).Clear();
        var sourceArray = SmallMapSources(g);
        for (int gr = 0; gr < g.Groups; gr++)
        {
            BatchRows(g, gr, (T*)pdy, rows);
            // dcol[Q × N·P] = w_gᵀ · dy' : A = w_gᵀ has row stride 1 and column stride Q
            Gemm.Run(Q, (int)np, g.Kg, (T*)pw + (long)gr * g.Kg * Q, 1, Q, rows, np, 1, dcol, np, 1, accumulate: false, parallel: true);
            nint pcol = (nint)dcol;
            int parts = Math.Min(g.N, WorkerPool.Threads);
            WorkerPool.Run(parts, part =>
            {
                fixed (int* source = sourceArray)
                    for (int n = g.N * part / parts; n < g.N * (part + 1) / parts; n++)
                    {
                        T* dxc = (T*)pdx + ((long)n * g.C + gr * g.Cg) * HW;
                        T* src = (T*)pcol + (long)n * P;
                        for (int c = 0; c < g.Cg; c++, dxc += HW)
                            for (int t = 0; t < RS; t++, src += np)
                            {
                                int* offsets = source + t * P;
                                for (int p = 0; p < P; p++)
                                    if (offsets[p] >= 0) dxc[offsets[p]] = Simd.Add(dxc[offsets[p]], src[p]);
                            }
                    }
            });
        }
    }

    private static void ConvBackwardWeightSmallMaps<T>(Conv2dGeometry g, nint px, nint pdy, nint pdw) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S;
        long np = (long)g.N * P;
        T* col = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapColumns, Q * np * sizeof(T));
        T* rows = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapProducts, g.Kg * np * sizeof(T));
        fixed (int* source = SmallMapSources(g))
            for (int gr = 0; gr < g.Groups; gr++)
            {
                BatchIm2Col(g, gr, (T*)px, source, col);
                BatchRows(g, gr, (T*)pdy, rows);
                // dw_g[Kg × Q] = dy'[Kg × N·P] · colᵀ[N·P × Q] : B = colᵀ has row stride 1 and column stride N·P
                Gemm.Run(g.Kg, Q, (int)np, rows, np, 1, col, 1, np, (T*)pdw + (long)gr * g.Kg * Q, Q, 1, accumulate: false, parallel: true);
            }
    }

    private static void ConvBackwardInput<T>(Conv2dGeometry g, nint pdy, nint pw, nint pdx) where T : unmanaged
    {
        // stride 1: a forward convolution of dy (batched for tiny maps, else DirectConv where it applies)
        if (TransposedGeometry(g) is { } gt && (SmallMaps(gt) || (UseDirectConv && DirectConv.Applies(gt))))
        {
            T* flipped = (T*)ThreadScratch.Get(ThreadScratch.Slot.Flipped, (long)g.C * g.Kg * g.R * g.S * sizeof(T));
            FlipWeights(g, (T*)pw, flipped);
            if (SmallMaps(gt)) ConvForwardSmallMaps<T>(gt, pdy, (nint)flipped, pdx);
            else DirectConv.Forward(gt, (T*)pdy, flipped, (T*)pdx);
            return;
        }
        if (SmallMaps(g))
        {
            ConvBackwardInputSmallMaps<T>(g, pdy, pw, pdx);
            return;
        }
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, HW = g.H * g.W;
        bool pointwise = IsPointwise(g);
        ForImages(g, (n, par) =>
        {
            T* col = pointwise ? null : (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)Q * P * sizeof(T));
            for (int gr = 0; gr < g.Groups; gr++)
            {
                T* dxg = (T*)pdx + ((long)n * g.C + gr * g.Cg) * HW;
                T* wg = (T*)pw + (long)gr * g.Kg * Q;
                T* dyg = (T*)pdy + ((long)n * g.K + gr * g.Kg) * P;
                // dcol[Q × P] = wgᵀ · dyg : A = wgᵀ has row stride 1 and column stride Q
                T* dst = pointwise ? dxg : col;
                Gemm.Run(Q, P, g.Kg, wg, 1, Q, dyg, P, 1, dst, P, 1, accumulate: false, parallel: par);
                if (!pointwise)
                {
                    new Span<T>(dxg, checked(g.Cg * HW)).Clear();
                    Col2Im(g, col, dxg);
                }
            }
        });
    }

    private static void ConvBackwardWeight<T>(Conv2dGeometry g, nint px, nint pdy, nint pdw) where T : unmanaged
    {
        if (SmallMaps(g))
        {
            ConvBackwardWeightSmallMaps<T>(g, px, pdy, pdw);
            return;
        }
        if (UseDirectConv && Vector256.IsHardwareAccelerated)
        {
            DirectConv.BackwardWeight(g, (T*)px, (T*)pdy, (T*)pdw);
            return;
        }
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, HW = g.H * g.W;
        long wSize = (long)g.K * Q;
        bool pointwise = IsPointwise(g);
        // Images are cut into a number of chunks set by the problem's size (Pieces), each accumulating
        // into its own dw (chunk 0 into dw itself), handed out dynamically and summed in chunk order at
        // the end: the result depends neither on which thread ran which chunk nor on how many threads there are.
        int chunks = g.Macs >= Gemm.ParallelMacs ? Pieces.OverImages(g.N, wSize * sizeof(T)) : 1;
        bool overImages = chunks > 1;
        T* partial = chunks > 1 ? (T*)ThreadScratch.Get(ThreadScratch.Slot.Partial, (chunks - 1) * wSize * sizeof(T)) : null;
        nint ppart = (nint)partial;
        WorkerPool.Run(chunks, t =>
        {
            T* dw = t == 0 ? (T*)pdw : (T*)ppart + (t - 1) * wSize;
            T* col = pointwise ? null : (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)Q * P * sizeof(T));
            int n0 = g.N * t / chunks, n1 = g.N * (t + 1) / chunks;
            if (n1 == n0) new Span<T>(dw, checked((int)wSize)).Clear();
            for (int n = n0; n < n1; n++)
                for (int gr = 0; gr < g.Groups; gr++)
                {
                    T* xg = (T*)px + ((long)n * g.C + gr * g.Cg) * HW;
                    T* b = xg;
                    if (!pointwise)
                    {
                        Im2Col(g, xg, col);
                        b = col;
                    }
                    T* dyg = (T*)pdy + ((long)n * g.K + gr * g.Kg) * P;
                    // dw_g[Kg × Q] (+)= dy_g[Kg × P] · colᵀ[P × Q] : B = colᵀ has row stride 1, column stride P
                    Gemm.Run(g.Kg, Q, P, dyg, P, 1, b, 1, P, dw + (long)gr * g.Kg * Q, Q, 1,
                        accumulate: n > n0, parallel: !overImages);
                }
        });
        for (int t = 1; t < chunks; t++)
            Simd.AddInto((T*)pdw, partial + (t - 1) * wSize, wSize);
    }

    /// <summary>
    /// With stride 1, the input gradient is itself a convolution: of dy, padded by
    /// dilation·(kernel-1) - pad on each side, with the weights flipped in space and their two
    /// channel axes exchanged (per group):
    ///   dx[c, i, j] = Σ_{k,r,s} dy[k, i + padTop - r·dH, j + padLeft - s·dW] · w[k, c, r, s]
    ///              = Σ_{k,r',s'} dy_padded[k, i + r'·dH, j + s'·dW] · w[k, c, R-1-r', S-1-s'].
    /// Null when the stride is not 1 or a padding exceeds dilation·(kernel-1).
    /// </summary>
    private static Conv2dGeometry? TransposedGeometry(Conv2dGeometry g)
    {
        if (g.StrideH != 1 || g.StrideW != 1) return null;
        int eh = g.DilationH * (g.R - 1), ew = g.DilationW * (g.S - 1);
        int pt = eh - g.PadTop, pb = eh - g.PadBottom, pl = ew - g.PadLeft, pr = ew - g.PadRight;
        if (pt < 0 || pb < 0 || pl < 0 || pr < 0) return null;
        return new Conv2dGeometry(g.N, g.K, g.OH, g.OW, g.C, g.R, g.S, 1, 1, pt, pl, pb, pr, g.DilationH, g.DilationW, g.Groups);
    }

    /// <summary>wt[gr·Cg + c, k, r, s] = w[gr·Kg + k, c, R-1-r, S-1-s]: the weights of <see cref="TransposedGeometry"/>.</summary>
    private static void FlipWeights<T>(Conv2dGeometry g, T* w, T* wt) where T : unmanaged
    {
        // A transpose of (k, c) blocks of R·S values: done in tiles of 32 × 32 blocks, because walking one
        // side in order makes the other jump a page per block (512 × 512 × 3 × 3: 7 ms of TLB misses, not 1).
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

    /// <summary>The output columns ow whose input column ow·stride + off lies in [0, size).</summary>
    private static (int Lo, int Hi) ValidRange(int outSize, int stride, int off, int size)
    {
        int lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
        int hi = size - 1 - off < 0 ? -1 : Math.Min(outSize - 1, (size - 1 - off) / stride);
        return (Math.Min(lo, outSize), hi);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Im2Col<T>(Conv2dGeometry g, T* x, T* col, long ld = -1) where T : unmanaged
    {
        int OH = g.OH, OW = g.OW;
        if (ld < 0) ld = (long)OH * OW;
        for (int c = 0; c < g.Cg; c++)
            for (int r = 0; r < g.R; r++)
                for (int s = 0; s < g.S; s++)
                {
                    T* dst = col + ((long)(c * g.R + r) * g.S + s) * ld;
                    int offW = s * g.DilationW - g.PadLeft;
                    var (lo, hi) = ValidRange(OW, g.StrideW, offW, g.W);
                    for (int oh = 0; oh < OH; oh++, dst += OW)
                    {
                        int ih = oh * g.StrideH - g.PadTop + r * g.DilationH;
                        if ((uint)ih >= (uint)g.H || hi < lo)
                        {
                            new Span<T>(dst, OW).Clear();
                            continue;
                        }
                        T* src = x + ((long)c * g.H + ih) * g.W + offW;
                        for (int ow = 0; ow < lo; ow++) dst[ow] = default;
                        if (g.StrideW == 1)
                            new ReadOnlySpan<T>(src + lo, hi - lo + 1).CopyTo(new Span<T>(dst + lo, hi - lo + 1));
                        else
                            for (int ow = lo; ow <= hi; ow++) dst[ow] = src[ow * g.StrideW];
                        for (int ow = hi + 1; ow < OW; ow++) dst[ow] = default;
                    }
                }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Col2Im<T>(Conv2dGeometry g, T* col, T* dx) where T : unmanaged
    {
        int OH = g.OH, OW = g.OW;
        for (int c = 0; c < g.Cg; c++)
            for (int r = 0; r < g.R; r++)
                for (int s = 0; s < g.S; s++)
                {
                    T* src = col + ((long)(c * g.R + r) * g.S + s) * OH * OW;
                    int offW = s * g.DilationW - g.PadLeft;
                    var (lo, hi) = ValidRange(OW, g.StrideW, offW, g.W);
                    for (int oh = 0; oh < OH; oh++, src += OW)
                    {
                        int ih = oh * g.StrideH - g.PadTop + r * g.DilationH;
                        if ((uint)ih >= (uint)g.H || hi < lo) continue;
                        T* dst = dx + ((long)c * g.H + ih) * g.W + offW;
                        if (g.StrideW == 1)
                            Simd.AddInto(dst + lo, src + lo, hi - lo + 1);
                        else
                            for (int ow = lo; ow <= hi; ow++) dst[ow * g.StrideW] = Simd.Add(dst[ow * g.StrideW], src[ow]);
                    }
                }
    }
}
