using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels;

/// <summary>
/// Copies a strided matrix into a row-major one: dst[i·ldd + j] = src[i·rs + j·cs]. The case that
/// matters is a column-major source (rs = 1, a transposed operand such as a Linear layer's
/// [out, in] weight read as [in, out]): there every row of the destination gathers one element from
/// each source column, so it goes in 8 × 8 blocks, each read as eight contiguous vectors and
/// transposed in registers.
/// </summary>
internal static unsafe class Transpose
{
    /// <summary>dst[i·ldd + j] = src[i·rs + j·cs] for i &lt; rows, j &lt; cols.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy<T>(int rows, int cols, T* src, long rs, long cs, T* dst, long ldd) where T : unmanaged
    {
        if (cs == 1)
        {
            for (int i = 0; i < rows; i++)
                new ReadOnlySpan<T>(src + i * rs, cols).CopyTo(new Span<T>(dst + i * ldd, cols));
            return;
        }
        int i0 = 0, j0 = 0;
        if (rs == 1 && typeof(T) == typeof(float) && Avx.IsSupported)
        {
            // whole 8 × 8 blocks in registers, then the ragged right and bottom edges element by element
            for (; i0 + 8 <= rows; i0 += 8)
                for (int j = 0; j + 8 <= cols; j += 8)
                    Block8x8((float*)src + i0 + j * cs, cs, (float*)dst + i0 * ldd + j, ldd);
            j0 = cols / 8 * 8;
            Scalar(i0, rows, 0, cols, src, rs, cs, dst, ldd);          // bottom rows
            Scalar(0, i0, j0, cols, src, rs, cs, dst, ldd);            // right columns
            return;
        }
        Scalar(0, rows, 0, cols, src, rs, cs, dst, ldd);
    }

    /// <summary>The plain loop over a rectangle, in 16 × 16 tiles so both sides stay in cache.</summary>
    private static void Scalar<T>(int i0, int i1, int j0, int j1, T* src, long rs, long cs, T* dst, long ldd) where T : unmanaged
    {
        const int Tile = 16;
        for (int ib = i0; ib < i1; ib += Tile)
            for (int jb = j0; jb < j1; jb += Tile)
            {
                int ie = Math.Min(ib + Tile, i1), je = Math.Min(jb + Tile, j1);
                for (int i = ib; i < ie; i++)
                    for (int j = jb; j < je; j++)
                        dst[i * ldd + j] = src[i * rs + j * cs];
            }
    }

    /// <summary>
    /// Eight source vectors (source column j is src + j·ld, eight consecutive rows) become eight
    /// destination rows: interleave pairs, then pairs of pairs within each 128-bit half, then swap
    /// the halves across.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(float* src, long ld, float* dst, long ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2 * ld);
        var r3 = Avx.LoadVector256(src + 3 * ld);
        var r4 = Avx.LoadVector256(src + 4 * ld);
        var r5 = Avx.LoadVector256(src + 5 * ld);
        var r6 = Avx.LoadVector256(src + 6 * ld);
        var r7 = Avx.LoadVector256(src + 7 * ld);
        // per 128-bit half: t0 = [r0₀ r1₀ r0₁ r1₁], t1 = [r0₂ r1₂ r0₃ r1₃], ...
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // per half: s0 = [r0₀ r1₀ r2₀ r3₀], s1 = [r0₁ r1₁ r2₁ r3₁], ...
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        // low halves hold elements 0-3 of each source vector, high halves 4-7
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }
}
