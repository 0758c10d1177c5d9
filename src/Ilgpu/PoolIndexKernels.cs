using System.Numerics;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>Which output a window tap connects to an input position (backward passes gather over these).</summary>
internal static class WindowTaps
{
    /// <summary>
    /// The output o with o·stride = <paramref name="padded"/> (an input position plus the leading padding minus
    /// the tap's offset), or −1 when there is none inside [0, <paramref name="outSize"/>).
    /// </summary>
    public static int Covering(int padded, int stride, int outSize)
    {
        if (padded < 0 || padded % stride != 0) return -1;
        int o = padded / stride;
        return o < outSize ? o : -1;
    }
}

/// <summary>The scalars of a pooling, as a kernel parameter.</summary>
public struct PoolShape
{
    /// <summary>Sizes and window.</summary>
    public int N, C, H, W, KH, KW, OH, OW;
    /// <summary>Stride, padding, dilation.</summary>
    public int StrideH, StrideW, PadTop, PadLeft, PadBottom, PadRight, DilationH, DilationW;
    /// <summary>Average pooling counts the padding in its divisor (0/1).</summary>
    public int CountIncludePad;

    internal static PoolShape Of(Pool2dGeometry g) => new()
    {
        N = g.N, C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW, OH = g.OH, OW = g.OW,
        StrideH = g.StrideH, StrideW = g.StrideW, PadTop = g.PadTop, PadLeft = g.PadLeft, PadBottom = g.PadBottom,
        PadRight = g.PadRight, DilationH = g.DilationH, DilationW = g.DilationW, CountIncludePad = g.CountIncludePad ? 1 : 0,
    };

    /// <summary>The output row whose window reaches input row <paramref name="h"/> through tap row <paramref name="a"/>, or −1.</summary>
    public readonly int CoveringRow(int h, int a) => WindowTaps.Covering(h + PadTop - a * DilationH, StrideH, OH);

    /// <summary>The output column whose window reaches input column <paramref name="w"/> through tap column <paramref name="b"/>, or −1.</summary>
    public readonly int CoveringColumn(int w, int b) => WindowTaps.Covering(w + PadLeft - b * DilationW, StrideW, OW);

    /// <summary>The divisor of average pooling at window origin (h0, w0), as the CPU backend counts it.</summary>
    public readonly int Divisor(int h0, int w0)
    {
        int rows = 0, cols = 0;
        for (int i = 0; i < KH; i++)
        {
            int ih = h0 + i * DilationH;
            if (CountIncludePad != 0 ? ih < H + PadBottom : ih >= 0 && ih < H) rows++;
        }
        for (int j = 0; j < KW; j++)
        {
            int iw = w0 + j * DilationW;
            if (CountIncludePad != 0 ? iw < W + PadRight : iw >= 0 && iw < W) cols++;
        }
        return rows * cols;
    }
}

/// <summary>Pooling (one thread per output forward, one per input backward: gathers, no atomics) and indexing.</summary>
public static class PoolIndexKernels
{
    /// <summary>Max pooling with the flat plane index of each maximum (NaN wins; the first maximum wins ties).</summary>
    public static void MaxPool<T>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<long> indices, PoolShape g)
        where T : unmanaged, INumber<T>
    {
        int ow = i % g.OW, oh = i / g.OW % g.OH;
        long plane = i / (g.OW * g.OH);
        long xb = plane * g.H * g.W;
        int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
        T best = T.Zero;
        long at = -1;
        for (int a = 0; a < g.KH; a++)
        {
            int ih = h0 + a * g.DilationH;
            if (ih < 0 || ih >= g.H) continue;
            for (int b = 0; b < g.KW; b++)
            {
                int iw = w0 + b * g.DilationW;
                if (iw < 0 || iw >= g.W) continue;
                T v = x[xb + ih * g.W + iw];
                if (at < 0 || v > best || (T.IsNaN(v) && !T.IsNaN(best))) { best = v; at = ih * g.W + iw; }
            }
        }
        y[i] = best;
        if (indices.Length > 0) indices[i] = at;
    }

    /// <summary>dx[h, w] = Σ dy over the outputs whose recorded maximum is (h, w), in window order.</summary>
    public static void MaxPoolBackward<T>(Index1D i, ArrayView<T> dy, ArrayView<long> indices, ArrayView<T> dx, PoolShape g)
        where T : unmanaged, INumber<T>
    {
        int w = i % g.W, h = i / g.W % g.H;
        long plane = i / (g.W * g.H);
        long ob = plane * g.OH * g.OW;
        long self = (long)h * g.W + w;
        T acc = T.Zero;
        for (int a = 0; a < g.KH; a++)
        {
            int oh = g.CoveringRow(h, a);
            if (oh < 0) continue;
            for (int b = 0; b < g.KW; b++)
            {
                int ow = g.CoveringColumn(w, b);
                if (ow < 0) continue;
                long o = ob + oh * g.OW + ow;
                if (indices[o] == self) acc += dy[o];
            }
        }
        dx[i] = acc;
    }

    /// <summary>Average pooling.</summary>
    public static void AvgPool<T, C>(Index1D i, ArrayView<T> x, ArrayView<T> y, PoolShape g)
        where T : unmanaged, INumber<T> where C : struct, IElem<T>
    {
        int ow = i % g.OW, oh = i / g.OW % g.OH;
        long plane = i / (g.OW * g.OH);
        long xb = plane * g.H * g.W;
        int h0 = oh * g.StrideH - g.PadTop, w0 = ow * g.StrideW - g.PadLeft;
        T sum = T.Zero;
        for (int a = 0; a < g.KH; a++)
        {
            int ih = h0 + a * g.DilationH;
            if (ih < 0 || ih >= g.H) continue;
            for (int b = 0; b < g.KW; b++)
            {
                int iw = w0 + b * g.DilationW;
                if (iw >= 0 && iw < g.W) sum += x[xb + ih * g.W + iw];
            }
        }
        y[i] = sum / C.FromLong(g.Divisor(h0, w0));
    }

    /// <summary>dx[h, w] = Σ dy[o] / divisor(o) over the windows that cover (h, w).</summary>
    public static void AvgPoolBackward<T, C>(Index1D i, ArrayView<T> dy, ArrayView<T> dx, PoolShape g)
        where T : unmanaged, INumber<T> where C : struct, IElem<T>
    {
        int w = i % g.W, h = i / g.W % g.H;
        long plane = i / (g.W * g.H);
        long ob = plane * g.OH * g.OW;
        T acc = T.Zero;
        for (int a = 0; a < g.KH; a++)
        {
            int oh = g.CoveringRow(h, a);
            if (oh < 0) continue;
            for (int b = 0; b < g.KW; b++)
            {
                int ow = g.CoveringColumn(w, b);
                if (ow < 0) continue;
                int d = g.Divisor(oh * g.StrideH - g.PadTop, ow * g.StrideW - g.PadLeft);
                acc += dy[ob + oh * g.OW + ow] / C.FromLong(d);
            }
        }
        dx[i] = acc;
    }

    /// <summary>y[o, j] = x[o, index[j]] where o runs over the other dims (checked indices, contiguous Int64).</summary>
    public static void IndexSelect<T>(Index1D e, ArrayView<T> x, ArrayView<T> y, ArrayView<long> index, int count,
        Shape6 other, Strides6 sx, Strides6 sy, long axisX, long axisY) where T : unmanaged
    {
        int j = e % count;
        long o = e / count;
        y[Strided.At(o, other, sy) + j * axisY] = x[Strided.At(o, other, sx) + index[j] * axisX];
    }

    /// <summary>y[e] = x[e with its axis coordinate replaced by index[e]] (x's axis stride is zeroed in <paramref name="sx"/>).</summary>
    public static void Gather<T>(Index1D e, ArrayView<T> x, ArrayView<T> y, ArrayView<long> index,
        Shape6 shape, Strides6 sx, Strides6 sy, Strides6 si, long axisX) where T : unmanaged
    {
        y[Strided.At(e, shape, sy)] = x[Strided.At(e, shape, sx) + index[Strided.At(e, shape, si)] * axisX];
    }

    /// <summary>
    /// One thread per line of the index along the axis: y[..index[i]..] += src[..i..] for i in order.
    /// Lines write disjoint elements of y, and each adds in index order, as the CPU backend does.
    /// </summary>
    public static void ScatterAdd<T>(Index1D o, ArrayView<T> src, ArrayView<T> y, ArrayView<long> index,
        Shape6 lines, Strides6 ss, Strides6 sy, Strides6 si, int length, long axisS, long axisY, long axisI)
        where T : unmanaged, INumber<T>
    {
        long so = Strided.At(o, lines, ss), yo = Strided.At(o, lines, sy), io = Strided.At(o, lines, si);
        for (int i = 0; i < length; i++)
        {
            long at = yo + index[io + i * axisI] * axisY;
            y[at] += src[so + i * axisS];
        }
    }
}
