using System.Numerics;

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
        if (dtype == DType.Float32) MaxPoolForward<float>(g, Addr<float>(x), Addr<float>(y), Addr<long>(indices));
        else if (dtype == DType.Float64) MaxPoolForward<double>(g, Addr<double>(x), Addr<double>(y), Addr<long>(indices));
        else throw Unsupported("MaxPool2d", dtype);
    }

    private static void MaxPoolForward<T>(Pool2dGeometry g, nint px, nint py, nint pi) where T : unmanaged, INumber<T>
    {
        int OH = g.OH, OW = g.OW, HW = g.H * g.W;
        ForPlanes(g, (long)OH * OW * g.KH * g.KW, pl =>
        {
            T* x = (T*)px + pl * HW;
            T* y = (T*)py + pl * OH * OW;
            long* idx = (long*)pi + pl * OH * OW;
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                {
                    int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
                    T best = T.Zero;
                    long at = -1;
                    for (int i = 0; i < g.KH; i++)
                    {
                        int ih = h0 + i * g.DilationH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int j = 0; j < g.KW; j++)
                        {
                            int iw = w0 + j * g.DilationW;
                            if ((uint)iw >= (uint)g.W) continue;
                            T v = x[ih * g.W + iw];
                            if (at < 0 || v > best || (T.IsNaN(v) && !T.IsNaN(best))) { best = v; at = ih * g.W + iw; }
                        }
                    }
                    y[oh * OW + ow] = best;
                    idx[oh * OW + ow] = at;
                }
        });
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
