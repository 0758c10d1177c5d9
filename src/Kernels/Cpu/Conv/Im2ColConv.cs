using System.Runtime.CompilerServices;

namespace Engine.Kernels;

/// <summary>
/// Convolution as im2col + GEMM, image by image. For one image and one group, the column matrix
///   col[(c·R + r)·S + s, oh·OW + ow] = x[c, oh·strideH − padTop + r·dilH, ow·strideW − padLeft + s·dilW]
/// (0 where that falls in the padding) turns the convolution into matrix products:
///   forward          y[k, p]  = Σ_q w[k, q] · col[q, p]            (Kg × CgRS) · (CgRS × P)
///   backward-input   dcol     = wᵀ · dy, then col2im adds dcol back into dx
///   backward-weight  dw[k, q] = Σ_images Σ_p dy[k, p] · col[q, p]   (Kg × P) · (P × CgRS)
/// The forward pass never stores a large col: <see cref="Im2ColPanels{T}"/> packs its blocks straight from x into
/// the GEMM's panels. Images are spread over threads (each with its own column buffer) when there are enough of
/// them; otherwise each product is split over threads instead. <see cref="PointwiseConv"/> shares the image loops.
/// </summary>
internal static unsafe class Im2ColConv
{
    /// <summary>Column matrices up to this size are built whole; larger ones are packed panel by panel.</summary>
    private const long SmallColumnBytes = 256 << 10;

    public static void Forward<T>(Conv2dGeometry g, T* x, T* w, T* y, long ws = 0) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, HW = g.H * g.W;
        nint px = (nint)x, pw = (nint)w, py = (nint)y;
        ForImages(g, (n, par) =>
        {
            for (int gr = 0; gr < g.Groups; gr++)
            {
                T* xg = (T*)px + ((long)n * g.C + gr * g.Cg) * HW;
                T* wg = (T*)pw + (long)gr * g.Kg * Q;
                T* yg = (T*)py + ((long)n * g.K + gr * g.Kg) * P;
                if ((long)Q * P * sizeof(T) <= SmallColumnBytes)
                {
                    // a small column matrix (few taps, as in a first layer) stays in cache: build it
                    // with row copies and let the GEMM read it in place
                    T* col = (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)Q * P * sizeof(T));
                    Columns(g, xg, col);
                    Gemm.Run(g.Kg, P, Q, wg, Q, 1, col, P, 1, yg, P, 1, accumulate: false, parallel: par, ws);
                }
                else
                    Gemm.Run(g.Kg, P, Q, wg, Q, 1, new Im2ColPanels<T>(g, xg), yg, P, 1, accumulate: false, parallel: par, ws);
            }
        });
    }

    public static void BackwardInput<T>(Conv2dGeometry g, T* dy, T* w, T* dx, long ws = 0) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, HW = g.H * g.W;
        nint pdy = (nint)dy, pw = (nint)w, pdx = (nint)dx;
        ForImages(g, (n, par) =>
        {
            T* col = (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)Q * P * sizeof(T));
            for (int gr = 0; gr < g.Groups; gr++)
            {
                T* dxg = (T*)pdx + ((long)n * g.C + gr * g.Cg) * HW;
                // dcol[Q × P] = wgᵀ · dyg : A = wgᵀ has row stride 1 and column stride Q
                Gemm.Run(Q, P, g.Kg, (T*)pw + (long)gr * g.Kg * Q, 1, Q, (T*)pdy + ((long)n * g.K + gr * g.Kg) * P, P, 1, col, P, 1,
                    accumulate: false, parallel: par, ws);
                new Span<T>(dxg, checked(g.Cg * HW)).Clear();
                AddColumns(g, col, dxg);
            }
        });
    }

    public static void BackwardWeight<T>(Conv2dGeometry g, T* x, T* dy, T* dw) where T : unmanaged =>
        WeightGradient(g, x, dy, dw, columns: true);

    /// <summary>Runs image(n, parallelGemm) for every image: one task per image when there are enough, else each product split.</summary>
    internal static void ForImages(Conv2dGeometry g, Action<int, bool> image)
    {
        if (g.N >= WorkerPool.Threads && g.Macs >= Gemm.ParallelMacs)
            WorkerPool.Run(g.N, n => image(n, false));
        else
            for (int n = 0; n < g.N; n++) image(n, true);
    }

    /// <summary>
    /// dw = Σ_images dy · colᵀ, with col the image itself when <paramref name="columns"/> is false (pointwise).
    /// Images are cut into a number of chunks set by the problem's size (<see cref="Pieces"/>), each accumulating
    /// into its own dw (chunk 0 into dw itself), handed out dynamically and summed in chunk order at the end:
    /// the result depends neither on which thread ran which chunk nor on how many threads there are.
    /// </summary>
    internal static void WeightGradient<T>(Conv2dGeometry g, T* x, T* dy, T* pdw, bool columns) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, HW = g.H * g.W;
        long wSize = (long)g.K * Q;
        int chunks = g.Macs >= Gemm.ParallelMacs ? Pieces.OverImages(g.N, wSize * sizeof(T)) : 1;
        bool overImages = chunks > 1;
        T* partial = chunks > 1 ? (T*)ThreadScratch.Get(ThreadScratch.Slot.Partial, (chunks - 1) * wSize * sizeof(T)) : null;
        nint ppart = (nint)partial, px = (nint)x, pdy = (nint)dy, pw0 = (nint)pdw;
        WorkerPool.Run(chunks, t =>
        {
            T* dw = t == 0 ? (T*)pw0 : (T*)ppart + (t - 1) * wSize;
            T* col = columns ? (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)Q * P * sizeof(T)) : null;
            int n0 = g.N * t / chunks, n1 = g.N * (t + 1) / chunks;
            if (n1 == n0) new Span<T>(dw, checked((int)wSize)).Clear();
            for (int n = n0; n < n1; n++)
                for (int gr = 0; gr < g.Groups; gr++)
                {
                    T* b = (T*)px + ((long)n * g.C + gr * g.Cg) * HW;
                    if (columns)
                    {
                        Columns(g, b, col);
                        b = col;
                    }
                    T* dyg = (T*)pdy + ((long)n * g.K + gr * g.Kg) * P;
                    // dw_g[Kg × Q] (+)= dy_g[Kg × P] · colᵀ[P × Q] : B = colᵀ has row stride 1, column stride P
                    Gemm.Run(g.Kg, Q, P, dyg, P, 1, b, 1, P, dw + (long)gr * g.Kg * Q, Q, 1,
                        accumulate: n > n0, parallel: !overImages);
                }
        });
        for (int t = 1; t < chunks; t++)
            Simd.AddInto(pdw, partial + (t - 1) * wSize, wSize);
    }

    /// <summary>The output columns ow whose input column ow·stride + off lies in [0, size).</summary>
    internal static (int Lo, int Hi) ValidRange(int outSize, int stride, int off, int size)
    {
        int lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
        int hi = size - 1 - off < 0 ? -1 : Math.Min(outSize - 1, (size - 1 - off) / stride);
        return (Math.Min(lo, outSize), hi);
    }

    /// <summary>col[Q, P] of one image and group (row stride <paramref name="ld"/>, default P).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Columns<T>(Conv2dGeometry g, T* x, T* col, long ld = -1) where T : unmanaged
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

    /// <summary>col2im: adds each column back to the input pixel it was read from.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddColumns<T>(Conv2dGeometry g, T* col, T* dx) where T : unmanaged
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
