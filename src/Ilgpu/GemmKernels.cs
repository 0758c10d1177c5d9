using System.Numerics;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>Where element (row, col) of matrix number <c>batch</c> sits in its buffer; −1 for an implicit zero (padding).</summary>
public interface IMatrixIndex
{
    /// <summary>The element index, or −1.</summary>
    long Index(int batch, int row, int col);
}

/// <summary>A strided matrix per batch: offset(batch) + row·rs + col·cs.</summary>
public struct StridedMatrix : IMatrixIndex
{
    /// <summary>Batch dims.</summary>
    public Shape6 Batch;
    /// <summary>Batch strides and the view's offset.</summary>
    public Strides6 BatchStrides;
    /// <summary>Row and column strides.</summary>
    public long RowStride, ColStride;
    /// <inheritdoc/>
    public readonly long Index(int batch, int row, int col) =>
        Strided.At(batch, Batch, BatchStrides) + row * RowStride + col * ColStride;
}

/// <summary>The scalars of a convolution, as a kernel parameter.</summary>
public struct ConvShape
{
    /// <summary>Sizes.</summary>
    public int N, C, H, W, K, R, S, OH, OW, Cg, Kg;
    /// <summary>Stride, leading padding, dilation.</summary>
    public int StrideH, StrideW, PadTop, PadLeft, DilationH, DilationW;

    internal static ConvShape Of(Conv2dGeometry g) => new()
    {
        N = g.N, C = g.C, H = g.H, W = g.W, K = g.K, R = g.R, S = g.S, OH = g.OH, OW = g.OW, Cg = g.Cg, Kg = g.Kg,
        StrideH = g.StrideH, StrideW = g.StrideW, PadTop = g.PadTop, PadLeft = g.PadLeft, DilationH = g.DilationH, DilationW = g.DilationW,
    };

    /// <summary>x[n, g·Cg + c, h, w] for column-matrix element (crs, npq) of group g, or −1 in the padding.</summary>
    public readonly long Input(int g, int crs, int npq)
    {
        int c = crs / (R * S), r = crs / S % R, s = crs % S;
        int n = npq / (OH * OW), p = npq / OW % OH, q = npq % OW;
        int h = p * StrideH - PadTop + r * DilationH, w = q * StrideW - PadLeft + s * DilationW;
        if (h < 0 || h >= H || w < 0 || w >= W) return -1;
        return (((long)n * C + g * Cg + c) * H + h) * W + w;
    }

    /// <summary>y[n, g·Kg + k, p, q] for output-matrix element (k, npq) of group g.</summary>
    public readonly long Output(int g, int k, int npq)
    {
        int n = npq / (OH * OW), pq = npq % (OH * OW);
        return ((long)n * K + g * Kg + k) * OH * OW + pq;
    }
}

/// <summary>Convolution forward's A: the weights of group g as [Kg, Cg·R·S].</summary>
public struct ConvWeights : IMatrixIndex
{
    /// <summary>The geometry.</summary>
    public ConvShape G;
    /// <inheritdoc/>
    public readonly long Index(int batch, int row, int col) => ((long)batch * G.Kg + row) * G.Cg * G.R * G.S + col;
}

/// <summary>Convolution forward's B: the input as an implicit column matrix [Cg·R·S, N·OH·OW].</summary>
public struct ConvColumns : IMatrixIndex
{
    /// <summary>The geometry.</summary>
    public ConvShape G;
    /// <inheritdoc/>
    public readonly long Index(int batch, int row, int col) => G.Input(batch, row, col);
}

/// <summary>Backward-weight's B: the column matrix transposed, [N·OH·OW, Cg·R·S].</summary>
public struct ConvColumnsT : IMatrixIndex
{
    /// <summary>The geometry.</summary>
    public ConvShape G;
    /// <inheritdoc/>
    public readonly long Index(int batch, int row, int col) => G.Input(batch, col, row);
}

/// <summary>The output (forward's C, backward-weight's A) as [Kg, N·OH·OW] per group.</summary>
public struct ConvOutput : IMatrixIndex
{
    /// <summary>The geometry.</summary>
    public ConvShape G;
    /// <inheritdoc/>
    public readonly long Index(int batch, int row, int col) => G.Output(batch, row, col);
}

/// <summary>
/// Tiled matrix products through shared memory with register blocking. A group of T×T threads
/// computes a (4T)×(4T) tile of C; each thread owns a 4×4 block of it (rows ty + T·i, columns
/// tx + T·j) in registers. K advances in slices of 16: the group stages a 4T×16 slice of A and a
/// 16×4T slice of B in shared memory, then every thread runs 16 rank-1 updates of its block.
/// T is 16 on GPUs (64×64 tiles) and 4 on ILGPU's CPU accelerator (its groups hold 16 threads).
/// Operands are reached through <see cref="IMatrixIndex"/>, so the same kernel multiplies strided,
/// transposed and batch-broadcast matrices and runs convolution as an implicit GEMM.
/// </summary>
public static class GemmKernels
{
    /// <summary>The K slice.</summary>
    public const int TK = 16;
    /// <summary>Largest tile side (4·16).</summary>
    public const int MaxTile = 64;

    /// <summary>Flag: C += A·B instead of C = A·B.</summary>
    public const int Accumulate = 1;
    /// <summary>Flag: add bias[batch·m + row] to each result (a convolution's bias: batch is the group, row the channel in it).</summary>
    public const int AddBias = 2;
    /// <summary>Flag: max(·, 0) last (NaN stays NaN).</summary>
    public const int Relu = 4;
    /// <summary>Flag: add residual[at] (a tensor laid out like C) after the bias.</summary>
    public const int AddResidual = 8;

    /// <summary>
    /// C[batch] = A[batch]·B[batch], then the epilogue <paramref name="flags"/> asks for (<see cref="Accumulate"/>,
    /// <see cref="AddBias"/>, <see cref="AddResidual"/>, <see cref="Relu"/>) as each value is stored; grid (column tiles,
    /// row tiles, batches).
    /// </summary>
    public static void Gemm<T, LA, LB, LC>(ArrayView<T> a, LA la, ArrayView<T> b, LB lb, ArrayView<T> c, LC lc,
        int m, int n, int k, int flags, ArrayView<T> bias, ArrayView<T> residual)
        where T : unmanaged, INumber<T>
        where LA : struct, IMatrixIndex where LB : struct, IMatrixIndex where LC : struct, IMatrixIndex
    {
        var sa = SharedMemory.Allocate<T>(TK * MaxTile);
        var sb = SharedMemory.Allocate<T>(TK * MaxTile);
        int t = Group.DimX, tx = Group.IdxX, ty = Group.IdxY;
        int tile = 4 * t, tid = ty * t + tx, threads = t * t;
        int row0 = Grid.IdxY * tile, col0 = Grid.IdxX * tile, batch = Grid.IdxZ;
        T zero = T.Zero;
        T c00 = zero, c01 = zero, c02 = zero, c03 = zero, c10 = zero, c11 = zero, c12 = zero, c13 = zero;
        T c20 = zero, c21 = zero, c22 = zero, c23 = zero, c30 = zero, c31 = zero, c32 = zero, c33 = zero;
        for (int k0 = 0; k0 < k; k0 += TK)
        {
            for (int e = tid; e < TK * tile; e += threads)
            {
                // A slice: consecutive threads walk k (the contiguous dim of a row-major A)
                int r = e / TK, kk = e % TK;
                T v = zero;
                if (row0 + r < m && k0 + kk < k)
                {
                    long at = la.Index(batch, row0 + r, k0 + kk);
                    if (at >= 0) v = a[at];
                }
                sa[kk * tile + r] = v;
                // B slice: consecutive threads walk columns
                int kb = e / tile, col = e % tile;
                T w = zero;
                if (col0 + col < n && k0 + kb < k)
                {
                    long at = lb.Index(batch, k0 + kb, col0 + col);
                    if (at >= 0) w = b[at];
                }
                sb[kb * tile + col] = w;
            }
            Group.Barrier();
            for (int q = 0; q < TK; q++)
            {
                T a0 = sa[q * tile + ty], a1 = sa[q * tile + ty + t], a2 = sa[q * tile + ty + 2 * t], a3 = sa[q * tile + ty + 3 * t];
                T b0 = sb[q * tile + tx], b1 = sb[q * tile + tx + t], b2 = sb[q * tile + tx + 2 * t], b3 = sb[q * tile + tx + 3 * t];
                c00 = a0 * b0 + c00; c01 = a0 * b1 + c01; c02 = a0 * b2 + c02; c03 = a0 * b3 + c03;
                c10 = a1 * b0 + c10; c11 = a1 * b1 + c11; c12 = a1 * b2 + c12; c13 = a1 * b3 + c13;
                c20 = a2 * b0 + c20; c21 = a2 * b1 + c21; c22 = a2 * b2 + c22; c23 = a2 * b3 + c23;
                c30 = a3 * b0 + c30; c31 = a3 * b1 + c31; c32 = a3 * b2 + c32; c33 = a3 * b3 + c33;
            }
            Group.Barrier();
        }
        int r0 = row0 + ty, q0 = col0 + tx;
        Store<T, LC>(c, lc, batch, r0, q0, t, m, n, flags, bias, residual, c00, c01, c02, c03);
        Store<T, LC>(c, lc, batch, r0 + t, q0, t, m, n, flags, bias, residual, c10, c11, c12, c13);
        Store<T, LC>(c, lc, batch, r0 + 2 * t, q0, t, m, n, flags, bias, residual, c20, c21, c22, c23);
        Store<T, LC>(c, lc, batch, r0 + 3 * t, q0, t, m, n, flags, bias, residual, c30, c31, c32, c33);
    }

    private static void Store<T, LC>(ArrayView<T> c, LC lc, int batch, int row, int col, int t, int m, int n, int flags,
        ArrayView<T> bias, ArrayView<T> residual, T v0, T v1, T v2, T v3) where T : unmanaged, INumber<T> where LC : struct, IMatrixIndex
    {
        if (row >= m) return;
        Put<T, LC>(c, lc, batch, row, col, m, n, flags, bias, residual, v0);
        Put<T, LC>(c, lc, batch, row, col + t, m, n, flags, bias, residual, v1);
        Put<T, LC>(c, lc, batch, row, col + 2 * t, m, n, flags, bias, residual, v2);
        Put<T, LC>(c, lc, batch, row, col + 3 * t, m, n, flags, bias, residual, v3);
    }

    private static void Put<T, LC>(ArrayView<T> c, LC lc, int batch, int row, int col, int m, int n, int flags,
        ArrayView<T> bias, ArrayView<T> residual, T v)
        where T : unmanaged, INumber<T> where LC : struct, IMatrixIndex
    {
        if (col >= n) return;
        long at = lc.Index(batch, row, col);
        if ((flags & Accumulate) != 0) v = c[at] + v;
        if ((flags & AddBias) != 0) v += bias[(long)batch * m + row];
        if ((flags & AddResidual) != 0) v += residual[at];
        if ((flags & Relu) != 0 && !T.IsNaN(v) && !(v > T.Zero)) v = T.Zero;
        c[at] = v;
    }

    /// <summary>
    /// dx[n, c, h, w] = Σ over k of its group and taps (r, s) that reach (h, w) of dy[n, k, p, q]·w[k, c', r, s]:
    /// one thread per input element, gathering, so the sum has a fixed order and needs no atomics.
    /// </summary>
    public static void ConvBackwardInput<T>(Index1D i, ArrayView<T> dy, ArrayView<T> w, ArrayView<T> dx, ConvShape g)
        where T : unmanaged, INumber<T>
    {
        int x = g.W, hh = g.H;
        int wi = i % x, hi = i / x % hh, ci = i / (x * hh) % g.C, ni = i / (x * hh * g.C);
        int grp = ci / g.Cg, cl = ci % g.Cg;
        T acc = T.Zero;
        for (int r = 0; r < g.R; r++)
        {
            int p = WindowTaps.Covering(hi + g.PadTop - r * g.DilationH, g.StrideH, g.OH);
            if (p < 0) continue;
            for (int s = 0; s < g.S; s++)
            {
                int q = WindowTaps.Covering(wi + g.PadLeft - s * g.DilationW, g.StrideW, g.OW);
                if (q < 0) continue;
                for (int kl = 0; kl < g.Kg; kl++)
                {
                    int kk = grp * g.Kg + kl;
                    long dyAt = (((long)ni * g.K + kk) * g.OH + p) * g.OW + q;
                    long wAt = (((long)kk * g.Cg + cl) * g.R + r) * g.S + s;
                    acc = dy[dyAt] * w[wAt] + acc;
                }
            }
        }
        dx[i] = acc;
    }
}
