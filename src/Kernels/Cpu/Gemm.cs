using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>
/// A packed, cache-blocked matrix product in the BLIS style, for float and double:
/// C[m×n] = A[m×k] · B[k×n] (+ C when accumulating), every operand with arbitrary row and column
/// strides (a transpose is just swapped strides).
/// </summary>
/// <remarks>
/// Loops, outermost first: columns of C in blocks of NC; the k dimension in blocks of KC (B's
/// KC×NC block is packed into NR-wide column panels); rows in blocks of MC (A's MC×KC block is
/// packed into MR-tall row panels); then every MR×NR tile of C is computed by the register-blocked
/// micro-kernel, which keeps the whole tile in vector registers and does k rank-1 updates with FMAs.
/// Two micro-kernels: 6×(4 Vector512) where AVX-512 is accelerated, 6×(2 Vector256) on AVX2;
/// each keeps MR·NV accumulators + NV B vectors + 1 broadcast within the register file
/// (29 of 32 zmm, 15 of 16 ymm). Partial tiles at the edges run the full kernel into a scratch tile
/// and copy the valid part. Packed panels are zero-padded, so a partial panel needs no special case.
/// Large products are split over threads as a grid of row ranges × column ranges, handed out
/// dynamically; each task packs its own panels into per-thread buffers.
/// </remarks>
internal static unsafe class Gemm
{
    /// <summary>Use the AVX-512 micro-kernel: where it is accelerated, unless this thread's <see cref="KernelChoices"/> say otherwise (both are correct everywhere).</summary>
    internal static bool UseVector512 => KernelChoices.Current?.GemmWide ?? Vector512.IsHardwareAccelerated;

    /// <summary>Until disposed, this thread's products use the 512-bit micro-kernel or not.</summary>
    internal static IDisposable UseWide(bool wide) => KernelChoices.With(c => c with { GemmWide = wide });

    /// <summary>Until disposed, this thread's products read their operands in place (true) or packed (false) whatever their size.</summary>
    internal static IDisposable UseUnpacked(bool unpacked) => KernelChoices.With(c => c with { GemmUnpacked = unpacked });

    /// <summary>Multiply-adds below which a product stays on the calling thread.</summary>
    internal const long ParallelMacs = 1L << 20;

    private const int MR = 6;

    /// <summary>Block sizes and the micro-kernel, fixed once per product.</summary>
    private readonly struct Blocking
    {
        public readonly bool Wide;
        public readonly int NR, MC, KC, NC;
        public Blocking(bool wide, int nr, int mc, int kc)
        {
            Wide = wide; NR = nr; MC = mc; KC = kc;
            NC = Math.Max(4096 / nr, 1) * nr;
        }
    }

    private static Blocking For<T>() where T : unmanaged =>
        UseVector512
            ? new Blocking(true, 4 * Vector512<T>.Count, typeof(T) == typeof(float) ? 192 : 96, 384)
            : new Blocking(false, 2 * Vector256<T>.Count, typeof(T) == typeof(float) ? 144 : 72, 256);

    /// <summary>C = A·B (+C when <paramref name="accumulate"/>); <paramref name="parallel"/> allows splitting over threads.</summary>
    /// <remarks><paramref name="stampA"/>: A's <see cref="BufferView.Stamp"/> when A is a tensor's memory (weights), so its packed
    /// panels may be kept in <see cref="PackedWeights"/>; 0 for scratch memory.</remarks>
    public static void Run<T>(int m, int n, int k,
        T* a, long rsA, long csA, T* b, long rsB, long csB, T* c, long rsC, long csC,
        bool accumulate, bool parallel, long stampA = 0) where T : unmanaged
    {
        if (csC == 1 && !UseVector512 && Vector256.IsHardwareAccelerated && m > 0 && n > 0 && k > 0
            && (csA == 1 || rsA == 1) && (csB == 1 || rsB == 1) && UnpackedWins(m, n))
        {
            if (csA != 1)
            {
                // a transposed A (Gᵀ in a weight gradient): one row-major copy that every task shares;
                // it moves m·k elements for m·n·k multiply-adds, what packing A would cost anyway
                T* at = (T*)ThreadScratch.Get(ThreadScratch.Slot.GemmTransposedA, (long)m * k * sizeof(T));
                Transpose.Copy(m, k, a, rsA, csA, at, k);
                a = at;
                rsA = k;
            }
            RunUnpacked(m, n, k, a, rsA, b, rsB, csB, c, rsC, accumulate, parallel);
        }
        else
            Run(m, n, k, a, rsA, csA, new StridedPanels<T>(b, rsB, csB), c, rsC, csC, accumulate, parallel, stampA);
    }

    /// <summary>
    /// Where reading the operands in place beats packing them (measurements in docs/engine-core.md): few rows of
    /// A (a packed B panel would be reused by few kernel calls), few columns of B (B stays in cache), or both small.
    /// </summary>
    internal static bool UnpackedWins(int m, int n) =>
        KernelChoices.Current?.GemmUnpacked ?? (m <= 96 || n <= 128 || (m <= 256 && n <= 256));

    /// <summary>
    /// Small products without packing A: the kernel broadcasts A straight from six row pointers and
    /// loads B's rows in place, so the whole k loop runs with the C tile in registers and nothing is
    /// copied but a zero-padded last column panel. When both operands fit in the caches, packing
    /// them costs as much as the arithmetic it prepares. A column-major B (a transposed weight,
    /// x·Wᵀ) is the exception: each task transposes its own column panels into scratch first.
    /// </summary>
    private static void RunUnpacked<T>(int m, int n, int k, T* a, long rsA, T* b, long rsB, long csB, T* c, long rsC,
        bool accumulate, bool parallel) where T : unmanaged
    {
        int nr = 2 * Vector256<T>.Count;
        int panels = (n + nr - 1) / nr;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        int parts = parallel && (long)m * n * k >= ParallelMacs ? Math.Min(panels, 4 * WorkerPool.Threads) : 1;
        WorkerPool.Run(parts, t =>
        {
            T* tile = stackalloc T[MR * 16];
            T** rows = stackalloc T*[MR];
            for (int jp = panels * t / parts; jp < panels * (t + 1) / parts; jp++)
            {
                int j0 = jp * nr, w = Math.Min(nr, n - j0);
                T* bp = (T*)pb + j0 * csB;
                long ldb = rsB;
                if (w < nr || csB != 1)
                {
                    bp = (T*)ThreadScratch.Get(ThreadScratch.Slot.GemmB, (long)k * nr * sizeof(T));
                    new StridedPanels<T>((T*)pb, rsB, csB).Pack(0, k, j0, w, nr, bp);
                    ldb = nr;
                }
                for (int i0 = 0; i0 < m; i0 += MR)
                {
                    int mr = Math.Min(MR, m - i0);
                    for (int i = 0; i < MR; i++) rows[i] = (T*)pa + Math.Min(i0 + i, m - 1) * rsA;
                    T* ct = (T*)pc + i0 * rsC + j0;
                    if (mr == MR && w == nr)
                    {
                        KernelRows256(k, rows, default(ConsecutiveTaps), bp, ldb, ct, rsC, !accumulate);
                        continue;
                    }
                    KernelRows256(k, rows, default(ConsecutiveTaps), bp, ldb, tile, nr, true);
                    for (int i = 0; i < mr; i++)
                        for (int j = 0; j < w; j++)
                        {
                            ref T dst = ref ct[i * rsC + j];
                            dst = accumulate ? Simd.Add(dst, tile[i * nr + j]) : tile[i * nr + j];
                        }
                }
            }
        });
    }

    /// <summary>C = A·B where B's panels come from <paramref name="b"/> (a strided matrix, or columns computed on the fly).</summary>
    public static void Run<T, TB>(int m, int n, int k,
        T* a, long rsA, long csA, TB b, T* c, long rsC, long csC,
        bool accumulate, bool parallel, long stampA = 0) where T : unmanaged where TB : struct, IPanelSource<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) c[i * rsC + j * csC] = default;
            return;
        }
        var bl = For<T>();
        var packer = new APacker<T>(a, rsA, csA, m, k, bl.KC);
        T* pre = (T*)PackedWeights.Get(new PackedWeights.Key((nint)a, PackedWeights.Form.GemmA, m, k, rsA, csA, bl.KC, sizeof(T)),
            stampA, packer.Bytes, packer, out var keep);
        int threads = parallel && (long)m * n * k >= ParallelMacs ? WorkerPool.Threads : 1;
        if (threads <= 1)
        {
            Serial(bl, m, n, k, a, rsA, csA, new PackedA<T>(pre, packer.PaddedRows, 0), b, 0, c, rsC, csC, accumulate);
            GC.KeepAlive(keep);
            return;
        }
        // One task per thread, a grid of row ranges × column ranges shaped to minimise the total
        // packing (each task packs B once per KC block for all its rows and A once for all its
        // columns: rowParts·n + colParts·m). Measured on 512³ and 1024³, finer grids (2, 4 or 8
        // tasks per thread, for balance against a slowed core) lost 3-15 % to the extra packing.
        nint pa = (nint)a, pc = (nint)c, ppre = (nint)pre;
        long padded = packer.PaddedRows;
        int tasks = threads;
        int rowPanels = (m + MR - 1) / MR, colPanels = (n + bl.NR - 1) / bl.NR;
        int rowParts = Math.Clamp((int)Math.Round(Math.Sqrt((double)tasks * m / n)), 1, Math.Min(tasks, rowPanels));
        int colParts = Math.Clamp(tasks / rowParts, 1, colPanels);
        WorkerPool.Run(rowParts * colParts, t =>
        {
            int rp = t / colParts, cp = t % colParts;
            int i0 = rowPanels * rp / rowParts * MR, i1 = Math.Min(m, rowPanels * (rp + 1) / rowParts * MR);
            int j0 = colPanels * cp / colParts * bl.NR, j1 = Math.Min(n, colPanels * (cp + 1) / colParts * bl.NR);
            if (i1 > i0 && j1 > j0)
                Serial(bl, i1 - i0, j1 - j0, k, (T*)pa + i0 * rsA, rsA, csA, new PackedA<T>((T*)ppre, padded, i0), b, j0,
                    (T*)pc + i0 * rsC + j0 * csC, rsC, csC, accumulate);
        });
        GC.KeepAlive(keep);
    }

    /// <summary>
    /// All of A packed ahead (from <see cref="PackedWeights"/>), or null: k block by k block (the blocks
    /// <see cref="Serial"/> cuts), each block's MR-row panels of every row, zero rows past m. A task's rows
    /// start at <see cref="Row0"/>, a multiple of MR, so its panel of rows i… sits at i·kc into the block.
    /// </summary>
    private readonly struct PackedA<T>(T* all, long paddedRows, int row0) where T : unmanaged
    {
        public readonly T* All = all;
        public readonly long PaddedRows = paddedRows;
        public readonly int Row0 = row0;

        /// <summary>The panels of rows <paramref name="i"/>… (relative to Row0) in the k block starting at <paramref name="pc"/>, <paramref name="kc"/> long.</summary>
        public T* At(int pc, int kc, int i) => All + (long)pc * PaddedRows + (long)(Row0 + i) * kc;
    }

    /// <summary>Packs the whole of A the way <see cref="Serial"/>'s loops would, block by block (in parallel over row panels).</summary>
    private readonly struct APacker<T>(T* a, long rsA, long csA, int m, int k, int kcMax) : PackedWeights.IPacker where T : unmanaged
    {
        public long PaddedRows => (m + MR - 1) / MR * MR;

        public long Bytes => PaddedRows * k * sizeof(T);

        public void Pack(void* destination)
        {
            int kBlocks = (k + kcMax - 1) / kcMax, kStep = (k + kBlocks - 1) / kBlocks, panels = (m + MR - 1) / MR;
            long padded = PaddedRows;
            nint pa = (nint)a, pd = (nint)destination;
            long rs = rsA, cs = csA;
            int rows = m, depth = k;
            int parts = (long)m * k >= 1 << 16 ? Math.Min(panels, 4 * WorkerPool.Threads) : 1;
            WorkerPool.Run(parts, t =>
            {
                int p0 = panels * t / parts, p1 = panels * (t + 1) / parts;
                for (int pc = 0; pc < depth; pc += kStep)
                {
                    int kc = Math.Min(kStep, depth - pc);
                    PackA(Math.Min(rows, p1 * MR) - p0 * MR, kc, (T*)pa + p0 * MR * rs + pc * cs, rs, cs,
                        (T*)pd + (long)pc * padded + (long)p0 * MR * kc);
                }
            });
        }
    }

    /// <summary>The blocked loops on one thread, for columns j0 … j0+n-1 of B (C and A are already offset).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Serial<T, TB>(in Blocking bl, int m, int n, int k,
        T* a, long rsA, long csA, PackedA<T> pre, in TB b, int j0, T* c, long rsC, long csC, bool accumulate)
        where T : unmanaged where TB : struct, IPanelSource<T>
    {
        int nr = bl.NR;
        T* pa = (T*)ThreadScratch.Get(ThreadScratch.Slot.GemmA, (long)((bl.MC + MR - 1) / MR * MR) * bl.KC * sizeof(T));
        T* pb = (T*)ThreadScratch.Get(ThreadScratch.Slot.GemmB, (long)((Math.Min(bl.NC, n) + nr - 1) / nr * nr) * bl.KC * sizeof(T));
        T* tile = stackalloc T[MR * 64];
        for (int jc = 0; jc < n; jc += bl.NC)
        {
            int nc = Math.Min(bl.NC, n - jc);
            // k is cut into equal blocks of at most KC (784 = 4 × 196, not 3 × 256 + 16): a short
            // last block would load and store every C tile for very little arithmetic
            int kBlocks = (k + bl.KC - 1) / bl.KC, kStep = (k + kBlocks - 1) / kBlocks;
            // rows likewise, in whole MR panels (171 rows = 2 × 86, not 144 + 27)
            int mBlocks = (m + bl.MC - 1) / bl.MC, mStep = ((m + mBlocks - 1) / mBlocks + MR - 1) / MR * MR;
            for (int pc = 0; pc < k; pc += kStep)
            {
                int kc = Math.Min(kStep, k - pc);
                bool overwrite = pc == 0 && !accumulate;
                b.Pack(pc, kc, j0 + jc, nc, nr, pb);
                for (int ic = 0; ic < m; ic += mStep)
                {
                    int mc = Math.Min(mStep, m - ic);
                    T* ablock = pa;
                    if (pre.All != null) ablock = pre.At(pc, kc, ic);
                    else PackA(mc, kc, a + ic * rsA + pc * csA, rsA, csA, pa);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int nrr = Math.Min(nr, nc - jr);
                        T* bp = pb + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int mr = Math.Min(MR, mc - ir);
                            T* ap = ablock + (long)ir * kc;
                            T* cp = c + (ic + ir) * rsC + (jc + jr) * csC;
                            if (mr == MR && nrr == nr && csC == 1)
                                Kernel(bl.Wide, kc, ap, bp, cp, rsC, overwrite);
                            else
                            {
                                Kernel(bl.Wide, kc, ap, bp, tile, nr, true);
                                for (int i = 0; i < mr; i++)
                                    for (int j = 0; j < nrr; j++)
                                    {
                                        ref T dst = ref cp[i * rsC + j * csC];
                                        dst = overwrite ? tile[i * nr + j] : Simd.Add(dst, tile[i * nr + j]);
                                    }
                            }
                        }
                    }
                }
            }
        }
    }


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel<T>(bool wide, int kc, T* a, T* b, T* c, long ldc, bool overwrite) where T : unmanaged
    {
        if (wide) Kernel512(kc, a, b, c, ldc, overwrite);
        else Kernel256(kc, a, b, c, ldc, overwrite);
    }

    /// <summary>Packs an mc×kc block of A into MR-row panels: panel[p·MR + r] = A[r, p], zero rows past mc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA<T>(int mc, int kc, T* a, long rsA, long csA, T* dst) where T : unmanaged
    {
        for (int i = 0; i < mc; i += MR)
        {
            int mr = Math.Min(MR, mc - i);
            T* src = a + i * rsA;
            if (csA == 1 && mr == MR)
            {
                // six read streams, one contiguous write stream
                T* r0 = src, r1 = src + rsA, r2 = src + 2 * rsA, r3 = src + 3 * rsA, r4 = src + 4 * rsA, r5 = src + 5 * rsA;
                T* d = dst;
                for (int p = 0; p < kc; p++, d += MR)
                {
                    d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
                }
            }
            else if (csA == 1)
            {
                for (int r = 0; r < mr; r++)
                {
                    T* row = src + r * rsA;
                    for (int p = 0; p < kc; p++) dst[p * MR + r] = row[p];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                    for (int r = 0; r < mr; r++) dst[p * MR + r] = src[r * rsA + p * csA];
            }
            if (mr < MR)
                for (int p = 0; p < kc; p++)
                    for (int r = mr; r < MR; r++) dst[p * MR + r] = default;
            dst += MR * kc;
        }
    }

    /// <summary>
    /// Asks for the C tile's cache lines before the k loop, so the read-modify-write at its end
    /// does not stall on misses (C is usually far larger than the caches).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile<T>(T* c, long ldc, int rowBytes) where T : unmanaged
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int i = 0; i < MR; i++)
        {
            byte* row = (byte*)(c + i * ldc);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + rowBytes - 1);
        }
    }

    /// <summary>The AVX2 micro-kernel: a 6 × (2 Vector256) tile of C in 12 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Kernel256<T>(int kc, T* a, T* b, T* c, long ldc, bool overwrite) where T : unmanaged
    {
        int w = Vector256<T>.Count;
        PrefetchTile(c, ldc, 2 * w * sizeof(T));
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                     c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var av = Vector256.Create(a[0]); c00 = Simd.Fma(av, b0, c00); c01 = Simd.Fma(av, b1, c01);
            av = Vector256.Create(a[1]); c10 = Simd.Fma(av, b0, c10); c11 = Simd.Fma(av, b1, c11);
            av = Vector256.Create(a[2]); c20 = Simd.Fma(av, b0, c20); c21 = Simd.Fma(av, b1, c21);
            av = Vector256.Create(a[3]); c30 = Simd.Fma(av, b0, c30); c31 = Simd.Fma(av, b1, c31);
            av = Vector256.Create(a[4]); c40 = Simd.Fma(av, b0, c40); c41 = Simd.Fma(av, b1, c41);
            av = Vector256.Create(a[5]); c50 = Simd.Fma(av, b0, c50); c51 = Simd.Fma(av, b1, c51);
            a += MR;
            b += 2 * w;
        }
        StoreTile(c, ldc, w, overwrite, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>Writes (or adds) the six rows of a 6 × (2 Vector256) tile, ldc elements apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile<T>(T* c, long ldc, int w, bool overwrite,
        Vector256<T> c00, Vector256<T> c01, Vector256<T> c10, Vector256<T> c11, Vector256<T> c20, Vector256<T> c21,
        Vector256<T> c30, Vector256<T> c31, Vector256<T> c40, Vector256<T> c41, Vector256<T> c50, Vector256<T> c51) where T : unmanaged
    {
        Store(c, w, overwrite, c00, c01);
        Store(c + ldc, w, overwrite, c10, c11);
        Store(c + 2 * ldc, w, overwrite, c20, c21);
        Store(c + 3 * ldc, w, overwrite, c30, c31);
        Store(c + 4 * ldc, w, overwrite, c40, c41);
        Store(c + 5 * ldc, w, overwrite, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* c, int w, bool overwrite, Vector256<T> v0, Vector256<T> v1) where T : unmanaged
    {
        if (!overwrite)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + w);
        }
        v0.Store(c);
        v1.Store(c + w);
    }

    /// <summary>
    /// The AVX2 micro-kernel on unpacked operands: for step p, A's six values are
    /// rows[i][taps.At(p)] (consecutive elements of six rows of a matrix, or six pixels of an image
    /// at one convolution tap) and B's row is ldb elements after the previous one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void KernelRows256<T, TTaps>(int kc, T** rows, TTaps taps, T* b, long ldb, T* c, long ldc, bool overwrite)
        where T : unmanaged where TTaps : struct, ITapIndex
    {
        int w = Vector256<T>.Count;
        T* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5];
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                     c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            int o = taps.At(p);
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var av = Vector256.Create(a0[o]); c00 = Simd.Fma(av, b0, c00); c01 = Simd.Fma(av, b1, c01);
            av = Vector256.Create(a1[o]); c10 = Simd.Fma(av, b0, c10); c11 = Simd.Fma(av, b1, c11);
            av = Vector256.Create(a2[o]); c20 = Simd.Fma(av, b0, c20); c21 = Simd.Fma(av, b1, c21);
            av = Vector256.Create(a3[o]); c30 = Simd.Fma(av, b0, c30); c31 = Simd.Fma(av, b1, c31);
            av = Vector256.Create(a4[o]); c40 = Simd.Fma(av, b0, c40); c41 = Simd.Fma(av, b1, c41);
            av = Vector256.Create(a5[o]); c50 = Simd.Fma(av, b0, c50); c51 = Simd.Fma(av, b1, c51);
            b += ldb;
        }
        StoreTile(c, ldc, w, overwrite, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>
    /// <see cref="KernelRows256{T, TTaps}"/> one vector wide (8 floats): for convolutions with at most 8 output channels per
    /// group (LeNet's first layer has 6), where a 16-wide panel would compute mostly padding. Even and odd steps go to two
    /// sets of six accumulators (twelve independent FMA chains), added at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void KernelRows256x1<T, TTaps>(int kc, T** rows, TTaps taps, T* b, long ldb, T* c, long ldc, bool overwrite)
        where T : unmanaged where TTaps : struct, ITapIndex
    {
        T* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5];
        Vector256<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default,
                     d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        int p = 0;
        for (; p + 1 < kc; p += 2)
        {
            int o = taps.At(p), q = taps.At(p + 1);
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + ldb);
            c0 = Simd.Fma(Vector256.Create(a0[o]), b0, c0); d0 = Simd.Fma(Vector256.Create(a0[q]), b1, d0);
            c1 = Simd.Fma(Vector256.Create(a1[o]), b0, c1); d1 = Simd.Fma(Vector256.Create(a1[q]), b1, d1);
            c2 = Simd.Fma(Vector256.Create(a2[o]), b0, c2); d2 = Simd.Fma(Vector256.Create(a2[q]), b1, d2);
            c3 = Simd.Fma(Vector256.Create(a3[o]), b0, c3); d3 = Simd.Fma(Vector256.Create(a3[q]), b1, d3);
            c4 = Simd.Fma(Vector256.Create(a4[o]), b0, c4); d4 = Simd.Fma(Vector256.Create(a4[q]), b1, d4);
            c5 = Simd.Fma(Vector256.Create(a5[o]), b0, c5); d5 = Simd.Fma(Vector256.Create(a5[q]), b1, d5);
            b += 2 * ldb;
        }
        if (p < kc)
        {
            int o = taps.At(p);
            var b0 = Vector256.Load(b);
            c0 = Simd.Fma(Vector256.Create(a0[o]), b0, c0); c1 = Simd.Fma(Vector256.Create(a1[o]), b0, c1);
            c2 = Simd.Fma(Vector256.Create(a2[o]), b0, c2); c3 = Simd.Fma(Vector256.Create(a3[o]), b0, c3);
            c4 = Simd.Fma(Vector256.Create(a4[o]), b0, c4); c5 = Simd.Fma(Vector256.Create(a5[o]), b0, c5);
        }
        Store1(c, overwrite, c0 + d0); Store1(c + ldc, overwrite, c1 + d1); Store1(c + 2 * ldc, overwrite, c2 + d2);
        Store1(c + 3 * ldc, overwrite, c3 + d3); Store1(c + 4 * ldc, overwrite, c4 + d4); Store1(c + 5 * ldc, overwrite, c5 + d5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1<T>(T* c, bool overwrite, Vector256<T> v) where T : unmanaged
    {
        if (!overwrite) v += Vector256.Load(c);
        v.Store(c);
    }

    /// <summary>
    /// <see cref="KernelRows256{T, TTaps}"/> with AVX-512: a 6 × (4 Vector512) tile (64 floats wide) in 24 accumulators,
    /// four FMAs per broadcast A value instead of two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static void KernelRows512<T, TTaps>(int kc, T** rows, TTaps taps, T* b, long ldb, T* c, long ldc, bool overwrite)
        where T : unmanaged where TTaps : struct, ITapIndex
    {
        int w = Vector512<T>.Count;
        T* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5];
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default,
                     c10 = default, c11 = default, c12 = default, c13 = default,
                     c20 = default, c21 = default, c22 = default, c23 = default,
                     c30 = default, c31 = default, c32 = default, c33 = default,
                     c40 = default, c41 = default, c42 = default, c43 = default,
                     c50 = default, c51 = default, c52 = default, c53 = default;
        for (int p = 0; p < kc; p++)
        {
            int o = taps.At(p);
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var b2 = Vector512.Load(b + 2 * w);
            var b3 = Vector512.Load(b + 3 * w);
            var av = Vector512.Create(a0[o]);
            c00 = Simd.Fma(av, b0, c00); c01 = Simd.Fma(av, b1, c01); c02 = Simd.Fma(av, b2, c02); c03 = Simd.Fma(av, b3, c03);
            av = Vector512.Create(a1[o]);
            c10 = Simd.Fma(av, b0, c10); c11 = Simd.Fma(av, b1, c11); c12 = Simd.Fma(av, b2, c12); c13 = Simd.Fma(av, b3, c13);
            av = Vector512.Create(a2[o]);
            c20 = Simd.Fma(av, b0, c20); c21 = Simd.Fma(av, b1, c21); c22 = Simd.Fma(av, b2, c22); c23 = Simd.Fma(av, b3, c23);
            av = Vector512.Create(a3[o]);
            c30 = Simd.Fma(av, b0, c30); c31 = Simd.Fma(av, b1, c31); c32 = Simd.Fma(av, b2, c32); c33 = Simd.Fma(av, b3, c33);
            av = Vector512.Create(a4[o]);
            c40 = Simd.Fma(av, b0, c40); c41 = Simd.Fma(av, b1, c41); c42 = Simd.Fma(av, b2, c42); c43 = Simd.Fma(av, b3, c43);
            av = Vector512.Create(a5[o]);
            c50 = Simd.Fma(av, b0, c50); c51 = Simd.Fma(av, b1, c51); c52 = Simd.Fma(av, b2, c52); c53 = Simd.Fma(av, b3, c53);
            b += ldb;
        }
        Store(c, w, overwrite, c00, c01, c02, c03); c += ldc;
        Store(c, w, overwrite, c10, c11, c12, c13); c += ldc;
        Store(c, w, overwrite, c20, c21, c22, c23); c += ldc;
        Store(c, w, overwrite, c30, c31, c32, c33); c += ldc;
        Store(c, w, overwrite, c40, c41, c42, c43); c += ldc;
        Store(c, w, overwrite, c50, c51, c52, c53);
    }

    /// <summary>The AVX-512 micro-kernel: a 6 × (4 Vector512) tile of C in 24 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Kernel512<T>(int kc, T* a, T* b, T* c, long ldc, bool overwrite) where T : unmanaged
    {
        int w = Vector512<T>.Count;
        PrefetchTile(c, ldc, 4 * w * sizeof(T));
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default,
                     c10 = default, c11 = default, c12 = default, c13 = default,
                     c20 = default, c21 = default, c22 = default, c23 = default,
                     c30 = default, c31 = default, c32 = default, c33 = default,
                     c40 = default, c41 = default, c42 = default, c43 = default,
                     c50 = default, c51 = default, c52 = default, c53 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var b2 = Vector512.Load(b + 2 * w);
            var b3 = Vector512.Load(b + 3 * w);
            var av = Vector512.Create(a[0]);
            c00 = Simd.Fma(av, b0, c00); c01 = Simd.Fma(av, b1, c01); c02 = Simd.Fma(av, b2, c02); c03 = Simd.Fma(av, b3, c03);
            av = Vector512.Create(a[1]);
            c10 = Simd.Fma(av, b0, c10); c11 = Simd.Fma(av, b1, c11); c12 = Simd.Fma(av, b2, c12); c13 = Simd.Fma(av, b3, c13);
            av = Vector512.Create(a[2]);
            c20 = Simd.Fma(av, b0, c20); c21 = Simd.Fma(av, b1, c21); c22 = Simd.Fma(av, b2, c22); c23 = Simd.Fma(av, b3, c23);
            av = Vector512.Create(a[3]);
            c30 = Simd.Fma(av, b0, c30); c31 = Simd.Fma(av, b1, c31); c32 = Simd.Fma(av, b2, c32); c33 = Simd.Fma(av, b3, c33);
            av = Vector512.Create(a[4]);
            c40 = Simd.Fma(av, b0, c40); c41 = Simd.Fma(av, b1, c41); c42 = Simd.Fma(av, b2, c42); c43 = Simd.Fma(av, b3, c43);
            av = Vector512.Create(a[5]);
            c50 = Simd.Fma(av, b0, c50); c51 = Simd.Fma(av, b1, c51); c52 = Simd.Fma(av, b2, c52); c53 = Simd.Fma(av, b3, c53);
            a += MR;
            b += 4 * w;
        }
        Store(c, w, overwrite, c00, c01, c02, c03); c += ldc;
        Store(c, w, overwrite, c10, c11, c12, c13); c += ldc;
        Store(c, w, overwrite, c20, c21, c22, c23); c += ldc;
        Store(c, w, overwrite, c30, c31, c32, c33); c += ldc;
        Store(c, w, overwrite, c40, c41, c42, c43); c += ldc;
        Store(c, w, overwrite, c50, c51, c52, c53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* c, int w, bool overwrite, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, Vector512<T> v3)
        where T : unmanaged
    {
        if (!overwrite)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + w);
            v2 += Vector512.Load(c + 2 * w);
            v3 += Vector512.Load(c + 3 * w);
        }
        v0.Store(c);
        v1.Store(c + w);
        v2.Store(c + 2 * w);
        v3.Store(c + 3 * w);
    }
}

/// <summary>Where the GEMM's B operand comes from: something that can pack any block of it into panels.</summary>
internal unsafe interface IPanelSource<T> where T : unmanaged
{
    /// <summary>
    /// Packs rows k0 … k0+kc-1 and columns j0 … j0+nc-1 of B into consecutive NR-wide panels:
    /// panel[p·NR + j] = B[k0 + p, panel start + j], with columns past the end zero-filled.
    /// </summary>
    void Pack(int k0, int kc, int j0, int nc, int nr, T* dst);
}

/// <summary>B as a matrix in memory with any row and column strides.</summary>
internal readonly unsafe struct StridedPanels<T>(T* b, long rs, long cs) : IPanelSource<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
    {
        T* src0 = b + k0 * rs;
        for (int j = j0; j < j0 + nc; j += nr)
        {
            int w = Math.Min(nr, j0 + nc - j);
            if (w < nr) new Span<T>(dst, kc * nr).Clear();
            // row-major B: kc row pieces; column-major (a transposed operand): 8 × 8 register transposes
            Transpose.Copy(kc, w, src0 + j * cs, rs, cs, dst, nr);
            dst += nr * kc;
        }
    }
}

/// <summary>Which element of each A row the unpacked kernel reads at step p.</summary>
internal interface ITapIndex
{
    int At(int p);
}

/// <summary>Step p reads element p: rows of a row-major matrix.</summary>
internal readonly struct ConsecutiveTaps : ITapIndex
{
    public int At(int p) => p;
}

/// <summary>Step p reads element offsets[p]: the taps of a convolution over a padded image.</summary>
internal readonly unsafe struct TapOffsets(int* offsets) : ITapIndex
{
    public int At(int p) => offsets[p];
}
