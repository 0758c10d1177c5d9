using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>
/// Convolution forward by <see cref="DirectConv"/>'s register-blocked kernel, with two differences: its six-pixel
/// blocks are taken across the whole batch, and taps that fall in the padding are never computed. No padded copy
/// is made: each pixel's base pointer is its window's corner in the unpadded image, and a block only runs the
/// taps that lie inside the image for all six of its pixels.
/// </summary>
/// <remarks>
/// <para>Which window rows (r) lie inside the image depends on the output row only, which columns (s) on the output column
/// only: the output pixels fall into classes by those two ranges (one interior class, and one per kind of border). Pixels
/// are grouped into blocks within a class, so a block's six pixels share one set of valid taps. The weights are packed
/// tap-major, q = (r·S + s)·C/g + c, so a class's valid taps are one contiguous run per window row: a few long kernel calls,
/// not one per channel.</para>
/// <para>What this saves is the share of the arithmetic that multiplies padding: a 3×3 window with padding 1 on a 2×2 map
/// has 4 of its 9 taps inside (ResNet18's last stage at 64×64 inputs), 10 of 12 row-taps on a 4×4 map (69 % of the taps
/// in all), 22 of 24 on 8×8 (84 %). Outputs are scattered to their channel planes one element at a time with the epilogue
/// (bias, residual, ReLU) applied as they go, a small cost beside at least C/g taps per output.</para>
/// </remarks>
internal static unsafe class DirectBatchConv
{
    private const int MR = 6;

    /// <summary>Blocks whose tiles are computed together, so each slice of a weight panel is read from L1 by all of them.</summary>
    private const int ChunkBlocks = 32;

    /// <summary>Tap q = (r·S + s)·C/g + c (tap-major) at offset c·H·W + r·dH·W + s·dW from a window's corner in the unpadded image.</summary>
    private static readonly GeometryCache<int[]> s_offsets = new(g =>
    {
        var offsets = new int[g.Cg * g.R * g.S];
        for (int r = 0, q = 0, Cg = g.Cg; r < g.R; r++)
            for (int s = 0; s < g.S; s++)
                for (int c = 0; c < Cg; c++, q++)
                    offsets[q] = c * g.H * g.W + r * g.DilationH * g.W + s * g.DilationW;
        return offsets;
    });

    /// <summary>Where 256-bit vectors are accelerated, and an image's offsets fit the kernel's 32-bit tap table.</summary>
    public static bool Applies(Conv2dGeometry g) => Vector256.IsHardwareAccelerated && (long)g.C * g.H * g.W < int.MaxValue;

    /// <summary>
    /// Each window row has at least 64 taps inside, DirectBatch skips at least a fifth of <see cref="DirectConv"/>'s
    /// arithmetic counted as the share of (pixel, tap) pairs inside the image times the share of Direct's pixel lanes that
    /// hold an output, and it does no more multiply-adds than Direct counted in whole six-lane blocks (<see cref="WorkShare"/>).
    /// The first rule: skipping the padding beat the direct kernel at batch 32 (2×2 maps 2.3×, 4×4 1.4×, 7×7 1.1×, 8×8 → 4×4
    /// at stride 2 1.1×); at 8×8 (0.82) it won by 5 % alone but not inside ResNet18; on larger maps the tap-major order's
    /// wider reach into the image per slice of weights costs more than the padding saves (16×16 at 64 channels: 0.86×).
    /// The second: a class of pixels fills its blocks only across a batch, and one 7×7 image has four corner classes of one
    /// pixel, a block apiece (1.05): 1.03 ms against Direct's 0.80 (2 and 4 images, 0.90 and 0.82: 1.39 and 2.61 ms against
    /// 1.67 and 3.26); docs/engine-core.md. Neither rule looks at the thread count, so the choice (and the result's last
    /// bits) does not depend on it.
    /// </summary>
    public static bool Worthwhile(Conv2dGeometry g)
    {
        var shares = s_shares.For(g);
        return g.Cg * g.S >= 64 && shares.Lanes <= 0.80 && shares.Work <= 1.0;
    }

    private sealed record Shares(double Work, double Lanes);

    private static readonly GeometryCache<Shares> s_shares = new(g => new(WorkShare(g), ValidShare(g) * DirectLaneShare(g)));

    /// <summary>The share of <see cref="DirectConv"/>'s pixel lanes that hold an output: an image's pixels in blocks of six.</summary>
    internal static double DirectLaneShare(Conv2dGeometry g)
    {
        int p = g.OH * g.OW;
        return p / (double)((p + MR - 1) / MR * MR);
    }

    /// <summary>The share of (output pixel, window tap) pairs whose tap lies inside the image.</summary>
    internal static double ValidShare(Conv2dGeometry g)
    {
        double rows = RowRanges(g).Sum(r => (double)(r.Hi - r.Lo) * r.Outputs.Count);
        double cols = ColumnRanges(g).Sum(c => (double)(c.Hi - c.Lo) * c.Outputs.Count);
        return rows * cols / ((double)g.OH * g.R * g.OW * g.S);
    }

    /// <summary>
    /// DirectBatch's multiply-adds over Direct's, both counted in whole six-lane blocks: Direct runs every tap of an image's
    /// pixels in blocks of six (⌈OH·OW / 6⌉ blocks per image); DirectBatch runs only the taps inside the image, in blocks of
    /// six pixels of one class (pixels whose windows have the same taps inside) across the batch. On small batches a class
    /// fills few blocks (one 7×7 image: four corner classes of one pixel each, a block apiece), so the share can pass 1.
    /// </summary>
    internal static double WorkShare(Conv2dGeometry g)
    {
        double batched = 0;
        foreach (var (rLo, rHi, ohs) in RowRanges(g))
            foreach (var (sLo, sHi, ows) in ColumnRanges(g))
                batched += (double)(((long)g.N * ohs.Count * ows.Count + MR - 1) / MR) * (rHi - rLo) * (sHi - sLo);
        double direct = (double)g.N * ((g.OH * g.OW + MR - 1) / MR) * g.R * g.S;
        return batched / direct;
    }

    private static List<(int Lo, int Hi, List<int> Outputs)> RowRanges(Conv2dGeometry g) => Ranges(g.OH, g.R, g.StrideH, g.PadTop, g.DilationH, g.H);

    private static List<(int Lo, int Hi, List<int> Outputs)> ColumnRanges(Conv2dGeometry g) => Ranges(g.OW, g.S, g.StrideW, g.PadLeft, g.DilationW, g.W);

    /// <summary>Output rows (or columns) grouped by the range of window taps [lo, hi) inside the input, in order of first appearance.</summary>
    private static List<(int Lo, int Hi, List<int> Outputs)> Ranges(int outputs, int kernel, int stride, int pad, int dilation, int size)
    {
        var ranges = new List<(int Lo, int Hi, List<int> Outputs)>();
        for (int o = 0; o < outputs; o++)
        {
            var (lo, hi) = WindowTaps.Inside(o * stride - pad, kernel, dilation, size);
            int at = ranges.FindIndex(e => e.Lo == lo && e.Hi == hi);
            if (at < 0) ranges.Add((lo, hi, [o]));
            else ranges[at].Outputs.Add(o);
        }
        return ranges;
    }

    /// <summary>y = x ⋆ w with the epilogue (see <see cref="Epilogue.Value"/>) applied to each output as it is stored.</summary>
    public static void Forward<T>(Conv2dGeometry g, T* x, T* w, T* y, T* bias = null, bool relu = false, T* residual = null, long ws = 0) where T : unmanaged
    {
        int nr = DirectConv.PanelWidth<T>(g);
        int Q = g.Cg * g.R * g.S, P = g.OH * g.OW, HW = g.H * g.W;
        int panels = (g.Kg + nr - 1) / nr;
        var packer = new WeightPacker<T>(g, w, nr, panels);
        long packedBytes = (long)g.Groups * panels * Q * nr * sizeof(T);
        T* packed = (T*)PackedWeights.Get(new PackedWeights.Key((nint)w, PackedWeights.Form.DirectBatchConv, g.K, Q, g.Groups, g.R * g.S, nr, sizeof(T)),
            ws, packedBytes, packer, out var keep);
        if (packed == null)
        {
            packed = (T*)ThreadScratch.Get(ThreadScratch.Slot.Weights, packedBytes);
            packer.Pack(packed);
        }
        var offsets = s_offsets.For(g);
        var blocks = Blocks.For(g);
        int chunks = (blocks.Count + ChunkBlocks - 1) / ChunkBlocks;
        int perChunk = (blocks.Count + chunks - 1) / chunks;
        int taps = DirectConv.SliceTaps<T>(nr);
        nint px = (nint)x, py = (nint)y, ppk = (nint)packed, pbias = (nint)bias, pres = (nint)residual;
        // items: (group, panel, chunk), chunks innermost: the worker pool gives each thread a contiguous range, so a thread
        // runs all the chunks of its panels one after another and reads each panel's weights from memory once (panels
        // innermost made both threads read most panels once per chunk: ResNet18 0.1-0.6 ms slower in six interleaved runs)
        WorkerPool.Run(g.Groups * chunks * panels, item =>
        {
            int chunk = item % chunks, jp = item / chunks % panels, gr = item / chunks / panels;
            int b0 = chunk * perChunk, b1 = Math.Min(blocks.Count, b0 + perChunk);
            Chunk(g, blocks, b0, b1, (T*)px + (long)gr * g.Cg * HW, (T*)ppk + ((long)gr * panels + jp) * Q * nr, offsets, taps, nr,
                gr * g.Kg + jp * nr, Math.Min(nr, g.Kg - jp * nr), (T*)py, (T*)pbias, (T*)pres, relu);
        });
        GC.KeepAlive(keep);
    }

    /// <summary>Blocks b0..b1 against one weight panel (output channels k0..k0+channels), stored with the epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<T>(Conv2dGeometry g, Blocks blocks, int b0, int b1, T* x, T* panel, int[] offsets, int taps, int nr,
        int k0, int channels, T* y, T* bias, T* residual, bool relu) where T : unmanaged
    {
        int count = b1 - b0, P = g.OH * g.OW, Cg = g.Cg, rowTaps = g.S * Cg;   // Cg is computed on every read: read once
        T* tiles = (T*)ThreadScratch.Get(ThreadScratch.Slot.Columns, (long)ChunkBlocks * MR * nr * sizeof(T));
        T** bases = stackalloc T*[ChunkBlocks * MR];
        bool* written = stackalloc bool[ChunkBlocks];
        for (int bi = 0; bi < count; bi++)
        {
            written[bi] = false;
            for (int i = 0; i < MR; i++) bases[bi * MR + i] = x + blocks.Source[(b0 + bi) * MR + i];
        }
        fixed (int* off = offsets)
            for (int r = 0; r < g.R; r++)
            {
                int rowStart = r * rowTaps;
                for (int q0 = rowStart; q0 < rowStart + rowTaps; q0 += taps)
                {
                    int q1 = Math.Min(q0 + taps, rowStart + rowTaps);
                    // the next slice of weights on its way to L1 while this one is used: the last stage's panels (1.2 MB each,
                    // 9.4 MB a layer) come from memory, and the hardware's prefetch alone left the kernel waiting (ResNet18's
                    // five 512-channel layers 6.7-7.0 → 5.8 ms)
                    Prefetch((byte*)(panel + (long)q1 * nr), (byte*)(panel + (long)Math.Min(q1 + taps, g.R * rowTaps) * nr));
                    for (int bi = 0; bi < count; bi++)
                    {
                        var v = blocks.Valid[b0 + bi];
                        if (r < v.RLo || r >= v.RHi) continue;
                        int lo = Math.Max(q0, rowStart + v.SLo * Cg), hi = Math.Min(q1, rowStart + v.SHi * Cg);
                        if (lo >= hi) continue;
                        DirectConv.Kernel(nr, hi - lo, bases + bi * MR, new TapOffsets(off + lo), panel + (long)lo * nr, tiles + bi * MR * nr, nr, overwrite: !written[bi]);
                        written[bi] = true;
                    }
                }
            }
        for (int bi = 0; bi < count; bi++)
        {
            T* tile = tiles + bi * MR * nr;
            if (!written[bi]) new Span<T>(tile, MR * nr).Clear();   // every tap of these windows in the padding
            int b = b0 + bi, pixels = blocks.Pixels[b];
            long first = blocks.Target[b * MR];
            if (blocks.Consecutive[b])
            {
                // the block's pixels are neighbours in one output plane: each channel's few outputs in one run
                for (int j = 0; j < channels; j++)
                {
                    long at = first + (long)(k0 + j) * P;
                    T* yj = y + at;
                    T* rj = residual == null ? null : residual + at;
                    for (int i = 0; i < pixels; i++)
                        yj[i] = Epilogue.Value(tile[i * nr + j], bias, k0 + j, rj == null ? null : rj + i, relu);
                }
                continue;
            }
            for (int i = 0; i < pixels; i++)
            {
                long at = blocks.Target[b * MR + i];
                T* yo = y + at + (long)k0 * P;
                T* ro = residual == null ? null : residual + at + (long)k0 * P;
                for (int j = 0; j < channels; j++)
                    yo[(long)j * P] = Epilogue.Value(tile[i * nr + j], bias, k0 + j, ro == null ? null : ro + (long)j * P, relu);
            }
        }
    }

    /// <summary>Asks for the cache lines of [<paramref name="from"/>, <paramref name="to"/>) to be brought into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte* from, byte* to)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (; from < to; from += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(from);
    }

    /// <summary>The window rows [RLo, RHi) and columns [SLo, SHi) inside the image for every pixel of a block.</summary>
    private readonly record struct ValidTaps(int RLo, int RHi, int SLo, int SHi);

    /// <summary>
    /// The output pixels in blocks of six: by class (valid rows × valid columns), then image, then position. Source: each lane's
    /// window corner, x offset from the image's group-0 start (negative where the window starts in the padding); Target: the
    /// lane's output offset n·K·P + p for channel 0, −1 for a lane that repeats the block's last pixel (the real ones come
    /// first: Pixels of them); Consecutive: the real lanes are neighbours in one output plane. Kept per geometry (<see cref="For"/>).
    /// </summary>
    private sealed class Blocks
    {
        public required long[] Source, Target;
        public required ValidTaps[] Valid;
        public required int[] Pixels;
        public required bool[] Consecutive;

        public int Count => Valid.Length;

        private static readonly GeometryCache<Blocks> s_made = new(Of);

        /// <summary>The blocks of <paramref name="g"/>, made once per geometry.</summary>
        public static Blocks For(Conv2dGeometry g) => s_made.For(g);

        private static Blocks Of(Conv2dGeometry g)
        {
            var rows = RowRanges(g);
            var cols = ColumnRanges(g);
            int OW = g.OW;
            long image = (long)g.C * g.H * g.W, outImage = (long)g.K * g.OH * OW;
            long count = 0;
            foreach (var r in rows)
                foreach (var c in cols)
                    count += ((long)g.N * r.Outputs.Count * c.Outputs.Count + MR - 1) / MR;
            if (count * MR > int.MaxValue) throw new InvalidOperationException($"Conv2d: {count} pixel blocks are too many for one call");
            var blocks = new Blocks
            {
                Source = new long[count * MR], Target = new long[count * MR], Valid = new ValidTaps[count],
                Pixels = new int[count], Consecutive = new bool[count],
            };
            int b = 0;
            foreach (var (rLo, rHi, ohs) in rows)
                foreach (var (sLo, sHi, ows) in cols)
                {
                    int lane = 0;
                    for (int n = 0; n < g.N; n++)
                        foreach (int oh in ohs)
                            foreach (int ow in ows)
                            {
                                blocks.Source[b * MR + lane] = n * image + (long)(oh * g.StrideH - g.PadTop) * g.W + (ow * g.StrideW - g.PadLeft);
                                blocks.Target[b * MR + lane] = n * outImage + (long)oh * OW + ow;
                                if (++lane < MR) continue;
                                Close(blocks, b++, MR, new ValidTaps(rLo, rHi, sLo, sHi));
                                lane = 0;
                            }
                    if (lane > 0) Close(blocks, b++, lane, new ValidTaps(rLo, rHi, sLo, sHi));
                }
            return blocks;
        }

        /// <summary>Block b has its first <paramref name="pixels"/> lanes filled: the rest repeat the last one, with no output.</summary>
        private static void Close(Blocks blocks, int b, int pixels, ValidTaps valid)
        {
            for (int i = pixels; i < MR; i++)
            {
                blocks.Source[b * MR + i] = blocks.Source[b * MR + pixels - 1];
                blocks.Target[b * MR + i] = -1;
            }
            bool consecutive = true;
            for (int i = 1; i < pixels; i++) consecutive &= blocks.Target[b * MR + i] == blocks.Target[b * MR] + i;
            blocks.Valid[b] = valid;
            blocks.Pixels[b] = pixels;
            blocks.Consecutive[b] = consecutive;
        }
    }

    /// <summary>The weights tap-major, for <see cref="PackedWeights"/>: panel[g][jp][(r·S + s)·C/g + c][j] = w[g·Kg + jp·nr + j, c, r, s], zero past the group's channels.</summary>
    private readonly struct WeightPacker<T>(Conv2dGeometry g, T* w, int nr, int panels) : PackedWeights.IPacker where T : unmanaged
    {
        public void Pack(void* destination)
        {
            // DirectConv's panels with each tap's row moved from (c, r, s) order to (r, s, c)
            int RS = g.R * g.S, Cg = g.Cg;
            var order = new int[Cg * RS];
            for (int c = 0; c < Cg; c++)
                for (int rs = 0; rs < RS; rs++) order[c * RS + rs] = rs * Cg + c;
            DirectConv.PackWeights(g, w, (T*)destination, nr, panels, order);
        }
    }
}
