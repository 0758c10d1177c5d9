using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    // Pooling works plane by plane (one image, one channel); planes are spread over threads.
    // A window tap (i, j) of output (oh, ow) reads input (oh·sH - padTop + i·dH, ow·sW - padLeft + j·dW);
    // taps in the padding are skipped by max pooling and count as zeros for average pooling
    // when count_include_pad is set.

    private static void ForPlanes(Pool2dGeometry g, long workPerPlane, Action<long> plane)
    {
        long planes = (long)g.N * g.C;
        int parts = planes * workPerPlane >= StridedLoop.ParallelThreshold ? (int)Math.Min(planes, WorkerPool.Threads) : 1;
        WorkerPool.Run(parts, p =>
        {
            for (long pl = planes * p / parts; pl < planes * (p + 1) / parts; pl++) plane(pl);
        });
    }

    /// <inheritdoc/>
    public void MaxPool2dForward(DType dtype, Pool2dGeometry g, in BufferView x, in BufferView y, in BufferView indices)
    {
        nint at = indices.Buffer is null ? 0 : Addr<long>(indices);   // 0: values only
        if (dtype == DType.Float32) MaxPoolForward<float>(g, Addr<float>(x), Addr<float>(y), at);
        else if (dtype == DType.Float64) MaxPoolForward<double>(g, Addr<double>(x), Addr<double>(y), at);
        else throw Unsupported("MaxPool2d", dtype);
    }

    private static void MaxPoolForward<T>(Pool2dGeometry g, nint px, nint py, nint pi) where T : unmanaged, INumber<T>
    {
        int OH = g.OH, OW = g.OW, HW = g.H * g.W;
        // Columns ow in [owLo, owHi] have every horizontal tap inside the row: they skip the column checks.
        // (the first tap inside from owLo on, the last tap inside up to owHi)
        int owLo = Im2ColConv.ValidRange(OW, g.StrideW, -g.PadLeft, g.W).Lo, owHi = Im2ColConv.ValidRange(OW, g.StrideW, (g.KW - 1) * g.DilationW - g.PadLeft, g.W).Hi;
        // float32 rows whose window rows all lie inside the plane go through MaxPoolRowVector when it has a full vector of work
        bool vectorRows = typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && (owHi - owLo) * g.StrideW + 1 >= Vector256<float>.Count;
        if (pi == 0 && typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            // values only (no indices wanted): a vertical then a horizontal vector pass per output row
            ForPlanes(g, (long)OH * OW * g.KH * g.KW, pl =>
            {
                // rowMax[-1] and rowMax[W …] stay −∞: the 3-wide, stride-2 pass reads them for windows at the edges (as skipped taps)
                float* rowBuffer = stackalloc float[g.W + 2 * Vector256<float>.Count + 2];
                float* rowMax = rowBuffer + 1;
                rowMax[-1] = float.NegativeInfinity;
                new Span<float>(rowMax + g.W, 2 * Vector256<float>.Count + 1).Fill(float.NegativeInfinity);
                float* dense = stackalloc float[g.W + Vector256<float>.Count];
                for (int oh = 0; oh < OH; oh++)
                    MaxPoolValuesRow(g, (float*)px + pl * HW, oh, OW, owLo, owHi, rowMax, dense, (float*)py + pl * OH * OW + oh * OW);
            });
            return;
        }
        ForPlanes(g, (long)OH * OW * g.KH * g.KW, pl =>
        {
            T* x = (T*)px + pl * HW;
            T* y = (T*)py + pl * OH * OW;
            long* idx = (long*)pi + pl * OH * OW;
            float* dense = stackalloc float[vectorRows ? g.W + 8 : 0];
            int* denseAt = stackalloc int[vectorRows ? g.W + 8 : 0];
            for (int oh = 0; oh < OH; oh++)
            {
                int h0 = oh * g.StrideH - g.PadTop;
                int vectorTo = vectorRows && h0 >= 0 && h0 + (g.KH - 1) * g.DilationH < g.H
                    ? MaxPoolRowVector(g, (float*)x, h0, owLo, owHi, dense, denseAt, (float*)y + oh * OW, idx + oh * OW)
                    : owLo;
                // the rows of this window inside the plane: taps i0 ≤ i < i1
                var (i0, i1) = WindowTaps.Inside(h0, g.KH, g.DilationH, g.H);
                for (int ow = 0; ow < OW; ow++)
                {
                    if (ow == owLo && vectorTo > owLo) ow = vectorTo;
                    if (ow >= OW) break;
                    int w0 = ow * g.StrideW - g.PadLeft;
                    T best = T.Zero;
                    long at = -1;
                    if (ow >= owLo && ow <= owHi && i1 > i0)
                    {
                        // interior columns: the first tap starts the maximum, then plain comparisons
                        at = (h0 + i0 * g.DilationH) * g.W + w0;
                        best = x[at];
                        for (int i = i0; i < i1; i++)
                        {
                            int row = (h0 + i * g.DilationH) * g.W + w0;
                            for (int j = 0; j < g.KW; j++)
                            {
                                int o = row + j * g.DilationW;
                                T v = x[o];
                                if (Beats(v, best)) { best = v; at = o; }
                            }
                        }
                    }
                    else
                        for (int i = i0; i < i1; i++)
                        {
                            int ih = h0 + i * g.DilationH;
                            for (int j = 0; j < g.KW; j++)
                            {
                                int iw = w0 + j * g.DilationW;
                                if ((uint)iw >= (uint)g.W) continue;
                                T v = x[ih * g.W + iw];
                                if (at < 0 || Beats(v, best)) { best = v; at = ih * g.W + iw; }
                            }
                        }
                    y[oh * OW + ow] = best;
                    if (pi != 0) idx[oh * OW + ow] = at;
                }
            }
        });
    }

    /// <summary>
    /// y[ow] = max(r[2·ow − 1], r[2·ow], r[2·ow + 1]) in that order for ow &lt; OW (a 3-wide window, stride 2, padding 1: ResNet's
    /// max pool), r[−1] and r[W …] being −∞ (a tap in the padding, skipped: the same value and bits). Eight outputs per step: the
    /// even and odd columns of 16 inputs separated by two shuffles and a lane permute, no per-column loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxOfThreeStrideTwo(float* r, int OW, float* y)
    {
        int ow = 0;
        // r[2ow + 2k − 1] is the odd column before: the odd vector moved up one lane, the previous step's last odd column (−∞ at
        // the start) in lane 0; loading it from r instead would straddle the vertical pass's stores and stall their forwarding
        var up = Vector256.Create(7, 0, 1, 2, 3, 4, 5, 6);
        var carry = Vector256.Create(float.NegativeInfinity);
        for (; ow + 8 <= OW; ow += 8)
        {
            float* at = r + 2 * ow;
            var a = Vector256.Load(at);
            var b = Vector256.Load(at + 8);
            var even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle();   // r[2ow + 2k]
            var odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0xDD).AsDouble(), 0xD8).AsSingle();    // r[2ow + 2k + 1]
            var moved = Avx2.PermuteVar8x32(odd, up);
            var left = Avx.Blend(moved, carry, 1);                                               // r[2ow + 2k − 1]
            carry = Vector256.Create(moved.ToScalar());
            Larger(odd, Larger(even, left)).Store(y + ow);
        }
        for (; ow < OW; ow++)
        {
            float m = r[2 * ow - 1];
            for (int j = 0; j < 2; j++)
            {
                float v = r[2 * ow + j];
                if (Beats(v, m)) m = v;
            }
            y[ow] = m;
        }
    }

    /// <summary>Whether v replaces the maximum m so far: v &gt; m, or v is NaN and m is not (the first NaN met stays).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Beats<T>(T v, T m) where T : INumber<T> => v > m || (T.IsNaN(v) && !T.IsNaN(m));

    /// <summary>v where v &gt; m or v is NaN, unless m is NaN: a maximum that keeps the first NaN it meets (<see cref="Beats"/> per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Larger(Vector256<float> v, Vector256<float> m) =>
        Vector256.ConditionalSelect(~Vector256.LessThanOrEqual(v, m) & Vector256.Equals(m, m), v, m);

    /// <summary>
    /// Max pooling of output row <paramref name="oh"/> without indices: the maximum over the window's rows inside the plane for
    /// every input column (a vector pass), then over each window's columns (a vector pass over the interior columns owLo..owHi,
    /// plain loops at the edges). A window with no tap inside gives 0, as with indices.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPoolValuesRow(Pool2dGeometry g, float* x, int oh, int OW, int owLo, int owHi, float* rowMax, float* dense, float* y)
    {
        int n = Vector256<float>.Count, W = g.W;   // OW is passed in: the geometry computes it on every read
        int h0 = oh * g.StrideH - g.PadTop;
        var (i0, i1) = WindowTaps.Inside(h0, g.KH, g.DilationH, g.H);
        if (i0 == i1)
        {
            new Span<float>(y, OW).Clear();
            return;
        }
        int w = 0;
        for (; w + n <= W; w += n)
        {
            var m = Vector256.Load(x + (h0 + i0 * g.DilationH) * W + w);
            for (int i = i0 + 1; i < i1; i++) m = Larger(Vector256.Load(x + (h0 + i * g.DilationH) * W + w), m);
            m.Store(rowMax + w);
        }
        for (; w < W; w++)
        {
            float m = x[(h0 + i0 * g.DilationH) * W + w];
            for (int i = i0 + 1; i < i1; i++)
            {
                float v = x[(h0 + i * g.DilationH) * W + w];
                if (Beats(v, m)) m = v;
            }
            rowMax[w] = m;
        }
        if (g.KW == 3 && g.StrideW == 2 && g.DilationW == 1 && g.PadLeft == 1 && 2 * OW - 1 <= W && Avx2.IsSupported)
        {
            MaxOfThreeStrideTwo(rowMax, OW, y);
            return;
        }
        int wStart = owLo * g.StrideW - g.PadLeft, length = owHi >= owLo ? (owHi - owLo) * g.StrideW + 1 : 0;
        if (length >= n)
        {
            for (int d = 0; ; d += n)
            {
                if (d + n > length) d = length - n;   // the last vector overlaps the one before: recomputed from rowMax, harmless
                var m = Vector256.Load(rowMax + wStart + d);
                for (int j = 1; j < g.KW; j++) m = Larger(Vector256.Load(rowMax + wStart + d + j * g.DilationW), m);
                m.Store(dense + d);
                if (d + n >= length) break;
            }
            for (int ow = owLo; ow <= owHi; ow++) y[ow] = dense[(ow - owLo) * g.StrideW];
        }
        for (int ow = 0; ow < OW; ow++)
        {
            if (length >= n && ow >= owLo && ow <= owHi) continue;
            int w0 = ow * g.StrideW - g.PadLeft;
            float best = 0;
            bool found = false;
            for (int j = 0; j < g.KW; j++)
            {
                int iw = w0 + j * g.DilationW;
                if ((uint)iw >= (uint)W) continue;
                float v = rowMax[iw];
                if (!found || Beats(v, best)) { best = v; found = true; }
            }
            y[ow] = best;
        }
    }

    /// <summary>
    /// Max pooling of output row <paramref name="h0"/> (its window rows all inside the plane) for the interior
    /// columns owLo..owHi, eight input columns at a time; returns owHi + 1. Scalar code mispredicts the
    /// comparison about a third of the time on real data, this has no data-dependent branch.
    /// </summary>
    /// <remarks>
    /// Horizontal pass: for every input column w from the first window's start, the maximum of row i over
    /// taps j, m_i[w] = max_j x[i, w + j·dW] (first j on ties). Vertical pass: the maximum over rows i of
    /// m_i[w] (first i on ties), so each window's winner is its first maximum in (i, j) order, as in the
    /// scalar loop. Output ow then reads the dense result at (ow − owLo)·sW. A NaN wins against a number
    /// and is kept once found.
    /// </remarks>
    // vector code called per row or plane: compiled optimized at once, not after the first tier's slow calls
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int MaxPoolRowVector(Pool2dGeometry g, float* x, int h0, int owLo, int owHi, float* dense, int* denseAt, float* y, long* idx)
    {
        int n = Vector256<float>.Count;
        int wStart = owLo * g.StrideW - g.PadLeft, length = (owHi - owLo) * g.StrideW + 1;
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int w = 0; ; w += n)
        {
            if (w + n > length) w = length - n; // the last vector overlaps the one before; recomputing is harmless
            Vector256<float> best = default;
            Vector256<int> bestAt = default;
            for (int i = 0; i < g.KH; i++)
            {
                int row = (h0 + i * g.DilationH) * g.W + wStart + w;
                var m = Vector256.Load(x + row);
                var mAt = lanes + Vector256.Create(row);
                for (int j = 1; j < g.KW; j++)
                {
                    int o = row + j * g.DilationW;
                    var v = Vector256.Load(x + o);
                    var take = ~Vector256.LessThanOrEqual(v, m) & Vector256.Equals(m, m);
                    m = Vector256.ConditionalSelect(take, v, m);
                    mAt = Vector256.ConditionalSelect(take.AsInt32(), lanes + Vector256.Create(o), mAt);
                }
                if (i == 0) { best = m; bestAt = mAt; continue; }
                var better = ~Vector256.LessThanOrEqual(m, best) & Vector256.Equals(best, best);
                best = Vector256.ConditionalSelect(better, m, best);
                bestAt = Vector256.ConditionalSelect(better.AsInt32(), mAt, bestAt);
            }
            best.Store(dense + w);
            bestAt.Store(denseAt + w);
            if (w + n >= length) break;
        }
        for (int ow = owLo; ow <= owHi; ow++)
        {
            int d = (ow - owLo) * g.StrideW;
            y[ow] = dense[d];
            idx[ow] = denseAt[d];
        }
        return owHi + 1;
    }

    /// <inheritdoc/>
    public void MaxPool2dBackward(DType dtype, Pool2dGeometry g, in BufferView dy, in BufferView indices, in BufferView dx)
    {
        if (dtype == DType.Float32) MaxPoolBackward<float>(g, Addr<float>(dy), Addr<long>(indices), Addr<float>(dx));
        else if (dtype == DType.Float64) MaxPoolBackward<double>(g, Addr<double>(dy), Addr<long>(indices), Addr<double>(dx));
        else throw Unsupported("MaxPool2dBackward", dtype);
    }

    private static void MaxPoolBackward<T>(Pool2dGeometry g, nint pdy, nint pi, nint pdx) where T : unmanaged, INumber<T>
    {
        int OHW = g.OH * g.OW, HW = g.H * g.W;
        ForPlanes(g, OHW + HW, pl =>
        {
            T* dx = (T*)pdx + pl * HW;
            T* dy = (T*)pdy + pl * OHW;
            long* idx = (long*)pi + pl * OHW;
            new Span<T>(dx, HW).Clear();
            for (int o = 0; o < OHW; o++)
                if (idx[o] >= 0) dx[idx[o]] += dy[o];
        });
    }

    /// <summary>The divisor of one average-pooling window.</summary>
    private static int AvgDivisor(Pool2dGeometry g, int h0, int w0)
    {
        int rows = 0, cols = 0;
        for (int i = 0; i < g.KH; i++)
        {
            int ih = h0 + i * g.DilationH;
            if (g.CountIncludePad ? ih < g.H + g.PadBottom : (uint)ih < (uint)g.H) rows++;
        }
        for (int j = 0; j < g.KW; j++)
        {
            int iw = w0 + j * g.DilationW;
            if (g.CountIncludePad ? iw < g.W + g.PadRight : (uint)iw < (uint)g.W) cols++;
        }
        return rows * cols;
    }

    /// <inheritdoc/>
    public void AvgPool2dForward(DType dtype, Pool2dGeometry g, in BufferView x, in BufferView y)
    {
        if (dtype == DType.Float32) AvgPoolForward<float>(g, Addr<float>(x), Addr<float>(y));
        else if (dtype == DType.Float64) AvgPoolForward<double>(g, Addr<double>(x), Addr<double>(y));
        else throw Unsupported("AvgPool2d", dtype);
    }

    private static void AvgPoolForward<T>(Pool2dGeometry g, nint px, nint py) where T : unmanaged, INumber<T>
    {
        int OH = g.OH, OW = g.OW, HW = g.H * g.W;
        if (OH == 1 && OW == 1 && g.KH == g.H && g.KW == g.W && g.PadTop == 0 && g.PadLeft == 0 && g.DilationH == 1 && g.DilationW == 1)
        {
            // one window over each whole plane (a global average, as at the end of a ResNet): the plane's elements in order
            long planes = (long)g.N * g.C;
            T divisor = T.CreateTruncating(AvgDivisor(g, 0, 0));
            int parts = planes * HW >= StridedLoop.ParallelThreshold ? (int)Math.Min(planes, WorkerPool.Threads) : 1;
            WorkerPool.Run(parts, p =>
            {
                for (long pl = planes * p / parts; pl < planes * (p + 1) / parts; pl++)
                {
                    T* x = (T*)px + pl * HW;
                    T sum = T.Zero;
                    for (int i = 0; i < HW; i++) sum += x[i];
                    ((T*)py)[pl] = sum / divisor;
                }
            });
            return;
        }
        ForPlanes(g, (long)OH * OW * g.KH * g.KW, pl =>
        {
            T* x = (T*)px + pl * HW;
            T* y = (T*)py + pl * OH * OW;
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                {
                    int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
                    T sum = T.Zero;
                    for (int i = 0; i < g.KH; i++)
                    {
                        int ih = h0 + i * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int j = 0; j < g.KW; j++)
                        {
                            int iw = w0 + j * g.DilationW;
                            if ((uint)iw < (uint)g.W) sum += x[ih * g.W + iw];
                        }
                    }
                    y[oh * OW + ow] = sum / T.CreateTruncating(AvgDivisor(g, h0, w0));
                }
        });
    }

    /// <inheritdoc/>
    public void AvgPool2dBackward(DType dtype, Pool2dGeometry g, in BufferView dy, in BufferView dx)
    {
        if (dtype == DType.Float32) AvgPoolBackward<float>(g, Addr<float>(dy), Addr<float>(dx));
        else if (dtype == DType.Float64) AvgPoolBackward<double>(g, Addr<double>(dy), Addr<double>(dx));
        else throw Unsupported("AvgPool2dBackward", dtype);
    }

    private static void AvgPoolBackward<T>(Pool2dGeometry g, nint pdy, nint pdx) where T : unmanaged, INumber<T>
    {
        int OH = g.OH, OW = g.OW, HW = g.H * g.W;
        ForPlanes(g, (long)OH * OW * g.KH * g.KW + HW, pl =>
        {
            T* dx = (T*)pdx + pl * HW;
            T* dy = (T*)pdy + pl * OH * OW;
            new Span<T>(dx, HW).Clear();
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                {
                    int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
                    T share = dy[oh * OW + ow] / T.CreateTruncating(AvgDivisor(g, h0, w0));
                    for (int i = 0; i < g.KH; i++)
                    {
                        int ih = h0 + i * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int j = 0; j < g.KW; j++)
                        {
                            int iw = w0 + j * g.DilationW;
                            if ((uint)iw < (uint)g.W) dx[ih * g.W + iw] += share;
                        }
                    }
                }
        });
    }
}
