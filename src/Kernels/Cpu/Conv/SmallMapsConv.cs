using System.Runtime.CompilerServices;
namespace Engine.Kernels;

/// <summary>
/// Tiny output maps (a ResNet's last stages: 4×4 and 2×2): per image, the products of <see cref="Im2ColConv"/> would be
/// K × (a few pixels) × C·R·S, far too narrow for the GEMM (and for DirectConv's pixel blocks). Instead the whole
/// batch's columns form one matrix col[C·R·S, N·P] (column n·P + p is pixel p of image n), and
///   forward          y'[K, N·P]   = w[K, Q] · col                 then y[n, k, p] = y'[k, n·P + p]
///   backward-input   dcol[Q, N·P] = wᵀ · dy'                      then col2im per image
///   backward-weight  dw[K, Q]     = dy'[K, N·P] · colᵀ
/// where dy'[k, n·P + p] = dy[n, k, p]. Each is one product large enough for the GEMM's blocking. Any geometry
/// works; it pays for at most <see cref="Conv2dAlgorithms.SmallMapPixels"/> output pixels and more than one image.
/// </summary>
internal static unsafe class SmallMapsConv
{
    public static bool Worthwhile(Conv2dGeometry g) => g.OH * g.OW <= Conv2dAlgorithms.SmallMapPixels && g.N > 1;

    /// <summary>y = x ⋆ w with the epilogue (bias, residual, ReLU; <see cref="Epilogue"/>) applied as the product's rows are scattered into the output planes.</summary>
    // vector code called per row or plane: compiled optimized at once, not after the first tier's slow calls
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(Conv2dGeometry g, T* x, T* w, T* y, long ws = 0, T* bias = null, bool relu = false, T* residual = null) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, Kg = g.Kg, K = g.K;
        long np = (long)g.N * P;
        // the scratch buffers are reused from call to call: fresh pages would cost more than the arithmetic
        T* tmp = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapProducts, g.Kg * np * sizeof(T));
        nint ptmp = (nint)tmp, py = (nint)y, pbias = (nint)bias, pres = (nint)residual;
        bool epilogue = bias != null || relu || residual != null;
        int parts = Math.Min(g.N, WorkerPool.Threads);
        fixed (int* source = s_sources.For(g))
            for (int gr = 0; gr < g.Groups; gr++)
            {
                // the columns are packed straight from x into the GEMM's panels, never built whole
                Gemm.Run(g.Kg, (int)np, Q, w + (long)gr * g.Kg * Q, Q, 1, new BatchIm2ColPanels<T>(g, x, gr, source), tmp, np, 1, accumulate: false, parallel: true, ws);
                // y[n, gr·Kg + k, ·] = tmp[k, n·P …]: N·Kg runs of P ≤ 16 outputs, a plain loop each (a library copy per run
                // cost 0.2 ms at 32 × 512 runs of 4), images over threads
                WorkerPool.Run(parts, part =>
                {
                    for (int n = g.N * part / parts; n < g.N * (part + 1) / parts; n++)
                        for (int k = 0; k < Kg; k++)
                        {
                            long at = ((long)n * K + gr * Kg + k) * P;
                            T* src = (T*)ptmp + k * np + (long)n * P, dst = (T*)py + at;
                            for (int p = 0; p < P; p++) dst[p] = src[p];
                            if (epilogue) Epilogue.Row(dst, P, (T*)pbias, gr * Kg + k, pres == 0 ? null : (T*)pres + at, relu);
                        }
                });
            }
    }

    public static void BackwardInput<T>(Conv2dGeometry g, T* dy, T* w, T* dx, long ws = 0) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S, RS = g.R * g.S, HW = g.H * g.W;
        long np = (long)g.N * P;
        T* dcol = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapColumns, Q * np * sizeof(T));
        T* rows = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapProducts, g.Kg * np * sizeof(T));
        new Span<T>(dx, checked(g.N * g.C * HW)).Clear();
        var sourceArray = s_sources.For(g);
        nint pdx = (nint)dx, pcol = (nint)dcol;
        for (int gr = 0; gr < g.Groups; gr++)
        {
            BatchRows(g, gr, dy, rows);
            // dcol[Q × N·P] = w_gᵀ · dy' : A = w_gᵀ has row stride 1 and column stride Q
            Gemm.Run(Q, (int)np, g.Kg, w + (long)gr * g.Kg * Q, 1, Q, rows, np, 1, dcol, np, 1, accumulate: false, parallel: true, ws);
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

    public static void BackwardWeight<T>(Conv2dGeometry g, T* x, T* dy, T* dw) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg * g.R * g.S;
        long np = (long)g.N * P;
        T* col = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapColumns, Q * np * sizeof(T));
        T* rows = (T*)ThreadScratch.Get(ThreadScratch.Slot.SmallMapProducts, g.Kg * np * sizeof(T));
        fixed (int* source = s_sources.For(g))
            for (int gr = 0; gr < g.Groups; gr++)
            {
                BatchIm2Col(g, gr, x, source, col);
                BatchRows(g, gr, dy, rows);
                // dw_g[Kg × Q] = dy'[Kg × N·P] · colᵀ[N·P × Q] : B = colᵀ has row stride 1 and column stride N·P
                Gemm.Run(g.Kg, Q, (int)np, rows, np, 1, col, 1, np, dw + (long)gr * g.Kg * Q, Q, 1, accumulate: false, parallel: true);
            }
    }

    private static readonly GeometryCache<int[]> s_sources = new(Sources);

    /// <summary>
    /// source[(r·S + s)·P + p]: the offset within a channel plane that tap (r, s) of output pixel p reads, or −1
    /// where it falls in the padding.
    /// </summary>
    private static int[] Sources(Conv2dGeometry g)
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
}
