using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>
/// Convolution forward without a column matrix: the product yᵀ[pixels × K] = X[pixels × Q] · Wᵀ[Q × K]
/// (Q = C/g·R·S taps) computed by a register-blocked kernel whose A operand is read straight out of
/// a zero-padded copy of the image. For six output pixels and one tap q = (c, r, s), the six A values
/// are xpad[c, oh·sH + r·dH, ow·sW + s·dW], one broadcast each: every pixel keeps its own base
/// pointer and every tap adds one offset, so blocks of pixels may cross output rows and any stride
/// or dilation works. B is the weights packed once per call into panels of 16 (float) or 8
/// (double) output channels. Each 6-pixel × 2-vector tile of y is kept in 12 registers over all Q
/// taps and written once.
/// </summary>
/// <remarks>
/// Compared with im2col + GEMM this moves C·H·W elements (the padded copy) instead of C·R·S·OH·OW
/// (the column matrix, 9× more for 3×3 kernels), which is what made the im2col path memory-bound.
/// The kernel pays a transposed store per tile (outputs are channel-major), so layers with few taps
/// (Q &lt; <see cref="Conv2dAlgorithms.DirectMinTaps"/>, such as a first layer on one input channel) keep the GEMM path.
/// </remarks>
internal static unsafe class DirectConv
{
    private const int MR = 6;

    /// <summary>Any geometry, where 256-bit vectors are accelerated.</summary>
    public static bool Applies(Conv2dGeometry g) => Vector256.IsHardwareAccelerated;

    /// <summary>Enough taps per output for the forward kernel to beat the column matrix.</summary>
    public static bool Worthwhile(Conv2dGeometry g) => g.Cg * g.R * g.S >= Conv2dAlgorithms.DirectMinTaps;

    /// <summary>y = x ⋆ w, each output then given the epilogue (+ bias[k] where <paramref name="bias"/> is not null, + the residual at the same place where <paramref name="residual"/> is, max(·, 0) when <paramref name="relu"/>) as its tile is stored.</summary>
    public static void Forward<T>(Conv2dGeometry g, T* x, T* w, T* y, T* bias = null, bool relu = false, T* residual = null, long ws = 0) where T : unmanaged
    {
        int nr = PanelWidth<T>(g);
        int Q = g.Cg * g.R * g.S, P = g.OH * g.OW;
        int hp = g.H + g.PadTop + g.PadBottom, wp = g.W + g.PadLeft + g.PadRight;
        int panels = (g.Kg + nr - 1) / nr;
        long planeSize = (long)hp * wp;
        // slack so the last block's unused pixel lanes may read past the final row
        long padSize = g.C * planeSize + (long)MR * g.StrideW + (long)(g.S - 1) * g.DilationW + wp * (long)(g.StrideH + 1);
        var packer = new WeightPacker<T>(g, w, nr, panels);
        long packedBytes = (long)g.Groups * panels * Q * nr * sizeof(T);
        T* packed = (T*)PackedWeights.Get(new PackedWeights.Key((nint)w, PackedWeights.Form.DirectConv, g.K, Q, g.Groups, 0, nr, sizeof(T)),
            ws, packedBytes, packer, out var keep);
        if (packed == null)
        {
            packed = (T*)ThreadScratch.Get(ThreadScratch.Slot.Weights, packedBytes);
            packer.Pack(packed);
        }
        var offsets = s_tapOffsets.For(g);
        int blocks = (P + MR - 1) / MR;
        nint px = (nint)x, py = (nint)y, ppk = (nint)packed, pbias = (nint)bias, pres = (nint)residual;
        int threads = WorkerPool.Threads;
        // without padding the image is its own padded copy (a block's unused pixel lanes repeat its last pixel, so every read is inside)
        bool padded = hp != g.H || wp != g.W;
        if (g.N >= threads)
        {
            // one task per image (WorkerPool: each thread its own range first, then the rest as they come)
            WorkerPool.Run(g.N, n =>
            {
                T* image = (T*)px + (long)n * g.C * g.H * g.W, xpad = image;
                if (padded)
                {
                    xpad = (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, padSize * sizeof(T));
                    Pad(g, image, xpad, hp, wp, padSize);
                }
                Image(g, xpad, (T*)ppk, offsets, (T*)py + (long)n * g.K * P, 0, blocks, nr, 0, panels, panels, wp, planeSize, (T*)pbias, relu,
                    pres == 0 ? null : (T*)pres + (long)n * g.K * P);
            });
            GC.KeepAlive(keep);
            return;
        }
        T* shared = padded ? (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, padSize * sizeof(T)) : null;
        for (int n = 0; n < g.N; n++)
        {
            T* image = x + (long)n * g.C * g.H * g.W;
            if (padded) PadShared(g, image, shared, hp, wp, padSize);
            nint ps = (nint)(padded ? shared : image);
            // parts: (weight panel, range of pixel blocks), panel-major, about two per thread: the worker pool's contiguous
            // ranges give each thread its own panels where there are several, so each reads only its share of the weights
            // (one 7 × 7 image at 512 channels, 9.4 MB of them: 0.80 ms, DirectBatch's panel split 1.03)
            int chunks = Math.Max(1, Math.Min(blocks, (threads * 2 + panels - 1) / panels));
            WorkerPool.Run(panels * chunks, t =>
            {
                int jp = t / chunks, c = t % chunks;
                Image(g, (T*)ps, (T*)ppk, offsets, (T*)py + (long)n * g.K * P, blocks * c / chunks, blocks * (c + 1) / chunks, nr, jp, jp + 1, panels,
                    wp, planeSize, (T*)pbias, relu, pres == 0 ? null : (T*)pres + (long)n * g.K * P);
            });
        }
        GC.KeepAlive(keep);
    }

    /// <summary>The weights as the forward kernel reads them (see <see cref="PackWeights"/>), for <see cref="PackedWeights"/>.</summary>
    private readonly struct WeightPacker<T>(Conv2dGeometry g, T* w, int nr, int panels) : PackedWeights.IPacker where T : unmanaged
    {
        public void Pack(void* destination) => PackWeights(g, w, (T*)destination, nr, panels);
    }

    /// <summary>
    /// panel[g][jp][q][j] = w[g·Kg + jp·NR + j, q], zero past the group's channels (a blocked transpose per panel, panels in
    /// parallel); with <paramref name="order"/>, tap q's row goes to row order[q] instead (<see cref="DirectBatchConv"/>'s tap-major order).
    /// </summary>
    internal static void PackWeights<T>(Conv2dGeometry g, T* w, T* dst, int nr, int panels, int[]? order = null) where T : unmanaged
    {
        int Q = g.Cg * g.R * g.S, Kg = g.Kg, count = g.Groups * panels;
        nint pw = (nint)w, pd = (nint)dst;
        int parts = (long)count * Q * nr >= 1 << 16 ? Math.Min(count, 4 * WorkerPool.Threads) : 1;
        WorkerPool.Run(parts, t =>
        {
            for (int i = count * t / parts; i < count * (t + 1) / parts; i++)
            {
                int gr = i / panels, k0 = i % panels * nr, rows = Math.Min(nr, Kg - k0);
                T* panel = (T*)pd + (long)i * Q * nr;
                T* target = order == null ? panel : (T*)ThreadScratch.Get(ThreadScratch.Slot.Partial, (long)Q * nr * sizeof(T));
                // target[q, j] = w[gr·Kg + k0 + j, q]: the Q × rows transpose of the panel's weight rows
                Transpose.Copy(Q, rows, (T*)pw + (long)(gr * Kg + k0) * Q, 1, Q, target, nr);
                if (order != null)
                    for (int q = 0; q < Q; q++) new ReadOnlySpan<T>(target + (long)q * nr, rows).CopyTo(new Span<T>(panel + (long)order[q] * nr, rows));
                if (rows < nr)
                    for (int q = 0; q < Q; q++) new Span<T>(panel + (long)q * nr + rows, nr - rows).Clear();
            }
        });
    }

    // vector code called per row or plane: compiled optimized at once, not after the first tier's slow calls
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad<T>(Conv2dGeometry g, T* x, T* xpad, int hp, int wp, long padSize) where T : unmanaged
    {
        new Span<T>(xpad, checked((int)padSize)).Clear();
        for (int c = 0; c < g.C; c++)
            for (int h = 0; h < g.H; h++)
                new ReadOnlySpan<T>(x + ((long)c * g.H + h) * g.W, g.W)
                    .CopyTo(new Span<T>(xpad + ((long)c * hp + h + g.PadTop) * wp + g.PadLeft, g.W));
    }

    /// <summary>
    /// <see cref="Pad"/> split over threads by channels, for a batch smaller than the thread count: one image's copy is
    /// shared by every thread's pixel blocks, and made on the calling thread alone it left the others waiting (64 channels
    /// of 56 × 56, 0.86 MB: about a tenth of the layer).
    /// </summary>
    private static void PadShared<T>(Conv2dGeometry g, T* x, T* xpad, int hp, int wp, long padSize) where T : unmanaged
    {
        long planeSize = (long)hp * wp, bytes = planeSize * sizeof(T) * g.C;
        int parts = bytes >= 1 << 16 ? Math.Min(g.C, 4 * WorkerPool.Threads) : 1;
        nint px = (nint)x, pp = (nint)xpad;
        WorkerPool.Run(parts, t =>
        {
            int c0 = g.C * t / parts, c1 = g.C * (t + 1) / parts;
            // this part's planes, and after the last plane the slack the kernel's unused lanes may point into
            long end = t == parts - 1 ? padSize : c1 * planeSize;
            new Span<T>((T*)pp + c0 * planeSize, checked((int)(end - c0 * planeSize))).Clear();
            for (int c = c0; c < c1; c++)
                for (int h = 0; h < g.H; h++)
                    new ReadOnlySpan<T>((T*)px + ((long)c * g.H + h) * g.W, g.W)
                        .CopyTo(new Span<T>((T*)pp + ((long)c * hp + h + g.PadTop) * wp + g.PadLeft, g.W));
        });
    }

    /// <summary>Pixel blocks computed together, so each slice of a weight panel is reused from L1 by all of them.</summary>
    private const int GroupBlocks = 16;

    /// <summary>Elements per slice of a weight panel: 128 taps × 16 floats (8 KiB); the 512-bit kernel takes 64 taps × 64 floats.</summary>
    private const int SliceElements = 2048;

    /// <summary>Taps per slice of a weight panel of width <paramref name="nr"/>: the kernel calls of a group of pixel blocks all read it from L1.</summary>
    // the 512-bit kernel's 64-channel panels: 64 taps per slice (16 KiB), 5 % faster than 32 at 8 × 64 ch × 56² and ResNet18's stages
    internal static int SliceTaps<T>(int nr) where T : unmanaged =>
        nr == 4 * Vector512<T>.Count ? 64 : SliceElements * sizeof(float) / sizeof(T) / nr;

    /// <summary>
    /// Forward with the 512-bit kernel (float32 panels of 64 channels) against <see cref="SmallMapsConv"/> on tiny maps: the direct kernel
    /// wins down to 8 output pixels, and below that while the batched product would have fewer than 128 columns (docs/engine-core.md).
    /// </summary>
    internal static bool WideBeatsSmallMaps(Conv2dGeometry g) =>
        Applies(g) && Worthwhile(g) && Wide<float>(g) && (g.OH * g.OW >= 8 || (long)g.N * g.OH * g.OW < 128);

    /// <summary>
    /// The weight gradient splits over images only (chunks of the batch): one image of a small map would run on one
    /// thread while the GEMM of <see cref="Im2ColConv"/> splits its product (docs/engine-core.md).
    /// </summary>
    internal static bool WeightGradientWorthwhile(Conv2dGeometry g) => g.N >= 2 || g.OH * g.OW >= 1024;

    /// <summary>Whether the forward pass and the weight gradient use the 512-bit kernel: accelerated (and not turned off for this thread), and a group has 4 vectors of output channels.</summary>
    internal static bool Wide<T>(Conv2dGeometry g) where T : unmanaged => Gemm.UseVector512 && g.Kg >= 4 * Vector512<T>.Count;

    /// <summary>
    /// Output channels per weight panel, which names the micro-kernel: 4 × 512 bits where <see cref="Wide{T}"/>, one 256-bit
    /// vector for groups of at most that many channels (8 floats), two otherwise.
    /// </summary>
    internal static int PanelWidth<T>(Conv2dGeometry g) where T : unmanaged =>
        Wide<T>(g) ? 4 * Vector512<T>.Count : g.Kg <= Vector256<T>.Count ? Vector256<T>.Count : 2 * Vector256<T>.Count;

    /// <summary>The micro-kernel of panel width <paramref name="nr"/>: 6 pixel (or tap) rows × nr channels, B's rows nr apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Kernel<T>(int nr, int kc, T** rows, TapOffsets taps, T* b, T* c, long ldc, bool overwrite) where T : unmanaged
    {
        if (nr == Vector256<T>.Count) Gemm.KernelRows256x1(kc, rows, taps, b, nr, c, ldc, overwrite);
        else if (nr == 2 * Vector256<T>.Count) Gemm.KernelRows256(kc, rows, taps, b, nr, c, ldc, overwrite);
        else Gemm.KernelRows512(kc, rows, taps, b, nr, c, ldc, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Image<T>(Conv2dGeometry g, T* xpad, T* packed, int[] offsets, T* y, int b0, int b1,
        int nr, int jp0, int jp1, int panels, int wp, long planeSize, T* bias, bool relu, T* residual) where T : unmanaged
    {
        // the geometry's OW, Cg and Kg are computed on every read (a division each): read once
        int Q = g.Cg * g.R * g.S, P = g.OH * g.OW, OW = g.OW, Kg = g.Kg, Cg = g.Cg;
        int taps = SliceTaps<T>(nr);
        int slices = (Q + taps - 1) / taps, kStep = (Q + slices - 1) / slices;
        T* tiles = stackalloc T[GroupBlocks * MR * nr];
        T** bases = stackalloc T*[GroupBlocks * MR];
        fixed (int* off = offsets)
            for (int gr = 0; gr < g.Groups; gr++)
            {
                T* xg = xpad + gr * Cg * planeSize;
                T* yg = y + (long)gr * Kg * P;
                // groups of at most GroupBlocks blocks, of even sizes (33 blocks: 11, 11, 11, not 16, 16, 1: a group of one block
                // would stream the whole panel of weights for six pixels)
                int groups = (b1 - b0 + GroupBlocks - 1) / GroupBlocks;
                for (int gi = 0; gi < groups; gi++)
                {
                    int gb = b0 + (b1 - b0) * gi / groups, blocks = b0 + (b1 - b0) * (gi + 1) / groups - gb;
                    for (int bi = 0; bi < blocks; bi++)
                    {
                        int p0 = (gb + bi) * MR, pixels = Math.Min(MR, P - p0);
                        for (int i = 0; i < MR; i++)
                        {
                            int p = p0 + Math.Min(i, pixels - 1);
                            bases[bi * MR + i] = xg + (long)(p / OW) * g.StrideH * wp + (p % OW) * g.StrideW;
                        }
                    }
                    for (int jp = jp0; jp < jp1; jp++)
                    {
                        T* panel = packed + ((long)gr * panels + jp) * Q * nr;
                        for (int q0 = 0; q0 < Q; q0 += kStep)
                        {
                            int kc = Math.Min(kStep, Q - q0);
                            for (int bi = 0; bi < blocks; bi++)
                                Kernel(nr, kc, bases + bi * MR, new TapOffsets(off + q0), panel + (long)q0 * nr, tiles + bi * MR * nr, nr, overwrite: q0 == 0);
                        }
                        // the group's tiles are one [pixels × nr] matrix; stored transposed (channel planes) with register transposes
                        int channels = Math.Min(nr, Kg - jp * nr);
                        int first = gb * MR, run = Math.Min(blocks * MR, P - first);
                        Transpose.Copy(channels, run, tiles, 1, nr, yg + (long)jp * nr * P + first, P);
                        if (bias == null && !relu && residual == null) continue;
                        // the epilogue on each channel's run of these pixels, contiguous and still in L1: vector passes, not per element
                        for (int j = 0; j < channels; j++)
                        {
                            long at = (long)(jp * nr + j) * P + first;
                            Epilogue.Row(yg + at, run, bias, gr * Kg + jp * nr + j, residual == null ? null : residual + (yg - y) + at, relu);
                        }
                    }
                }
            }
    }

    /// <summary>
    /// The weight gradient dWᵀ[Q × K] = Σ_images Xᵀ[Q × pixels] · dyᵀ[pixels × K], with the same
    /// kernel: six taps play the rows (each a base pointer into the padded image), the pixels are
    /// the long inner dimension (an offset table), and dy is transposed into panels of 16 channels (64 with the 512-bit kernel).
    /// Each kernel call adds its 6-tap × nr-channel tile straight into a dWᵀ buffer (no per-call transposed store);
    /// dW is its transpose at the end. Images are cut into a number of chunks set by the problem's size (<see cref="Pieces"/>),
    /// each summing into its own dWᵀ, added in chunk order: the result depends neither on which thread ran which chunk
    /// nor on the number of threads.
    /// </summary>
    public static void BackwardWeight<T>(Conv2dGeometry g, T* x, T* dy, T* dw) where T : unmanaged
    {
        int nr = PanelWidth<T>(g);
        int Q = g.Cg * g.R * g.S, P = g.OH * g.OW;
        int hp = g.H + g.PadTop + g.PadBottom, wp = g.W + g.PadLeft + g.PadRight;
        int panels = (g.Kg + nr - 1) / nr;
        // each chunk sums into dWᵀ, [group][Q rounded up to MR][panels·nr]: the kernel then adds its tile of 6 taps × nr
        // channels straight into rows of it (rows past Q and channels past Kg are padding, never read back)
        int qRows = (Q + MR - 1) / MR * MR, kCols = panels * nr;
        long planeSize = (long)hp * wp, groupSize = (long)qRows * kCols, wtSize = g.Groups * groupSize;
        long padSize = g.C * planeSize;
        var taps = s_tapOffsets.For(g);
        var pixels = s_pixelOffsets.For(g);
        int chunks = Pieces.OverImages(g.N, wtSize * sizeof(T));
        T* partial = (T*)ThreadScratch.Get(ThreadScratch.Slot.Partial, chunks * wtSize * sizeof(T));
        nint px = (nint)x, pdy = (nint)dy, ppart = (nint)partial;
        WorkerPool.Run(chunks, t =>
        {
            T* acc = (T*)ppart + t * wtSize;
            new Span<T>(acc, checked((int)wtSize)).Clear();
            T* xpad = (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, padSize * sizeof(T));
            T* dyt = (T*)ThreadScratch.Get(ThreadScratch.Slot.GemmB, (long)panels * P * nr * sizeof(T));
            T** rows = stackalloc T*[MR];
            fixed (int* pix = pixels)
                for (int n = g.N * t / chunks; n < g.N * (t + 1) / chunks; n++)
                {
                    Pad(g, (T*)px + (long)n * g.C * g.H * g.W, xpad, hp, wp, padSize);
                    for (int gr = 0; gr < g.Groups; gr++)
                    {
                        T* dyg = (T*)pdy + ((long)n * g.K + gr * g.Kg) * P;
                        for (int jp = 0; jp < panels; jp++)
                        {
                            // panel[p, j] = dy[jp·nr + j, p]: a P × channels transpose, zero past the group's channels
                            int channels = Math.Min(nr, g.Kg - jp * nr);
                            T* dst = dyt + (long)jp * P * nr;
                            Transpose.Copy(P, channels, dyg + (long)jp * nr * P, 1, P, dst, nr);
                            if (channels < nr)
                                for (int p = 0; p < P; p++) new Span<T>(dst + (long)p * nr + channels, nr - channels).Clear();
                        }
                        T* xg = xpad + gr * g.Cg * planeSize;
                        T* wtg = acc + gr * groupSize;
                        for (int jp = 0; jp < panels; jp++)
                            for (int q0 = 0; q0 < Q; q0 += MR)
                            {
                                for (int i = 0; i < MR; i++) rows[i] = xg + taps[Math.Min(q0 + i, Q - 1)];
                                T* c = wtg + (long)q0 * kCols + jp * nr;
                                Kernel(nr, P, rows, new TapOffsets(pix), dyt + (long)jp * P * nr, c, kCols, overwrite: false);
                            }
                    }
                }
        });
        // the chunks' sums in chunk order, then dW[k, q] = dWᵀ[q, k] per group
        for (int t = 1; t < chunks; t++)
            Simd.AddInto(partial, partial + t * wtSize, wtSize);
        for (int gr = 0; gr < g.Groups; gr++)
            Transpose.Copy(g.Kg, Q, partial + gr * groupSize, 1, kCols, dw + (long)gr * g.Kg * Q, Q);
    }

    /// <summary>Tap q = (c, r, s) at offset c·planeSize + r·dH·wp + s·dW from a window's corner in the padded image (wp, planeSize: its padded row and plane).</summary>
    private static readonly GeometryCache<int[]> s_tapOffsets = new(TapOffsets);

    /// <summary>Output pixel p's window corner in the padded image: (p / OW)·sH·wp + (p % OW)·sW (the weight gradient's offset table).</summary>
    private static readonly GeometryCache<int[]> s_pixelOffsets = new(g =>
    {
        int P = g.OH * g.OW, wp = g.W + g.PadLeft + g.PadRight;
        var pixels = new int[P];
        for (int p = 0; p < P; p++) pixels[p] = p / g.OW * g.StrideH * wp + p % g.OW * g.StrideW;
        return pixels;
    });

    private static int[] TapOffsets(Conv2dGeometry g)
    {
        int wp = g.W + g.PadLeft + g.PadRight;
        long planeSize = (long)(g.H + g.PadTop + g.PadBottom) * wp;
        var offsets = new int[g.Cg * g.R * g.S];
        for (int c = 0, q = 0; c < g.Cg; c++)
            for (int r = 0; r < g.R; r++)
                for (int s = 0; s < g.S; s++, q++)
                    offsets[q] = (int)(c * planeSize + (long)r * g.DilationH * wp + (long)s * g.DilationW);
        return offsets;
    }
}
