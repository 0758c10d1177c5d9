namespace Engine.Kernels;

/// <summary>
/// The column matrix of a convolution, col[(c·R + r)·S + s, oh·OW + ow] = x[c, ih, iw] with
/// ih = oh·strideH − padTop + r·dilationH and iw = ow·strideW − padLeft + s·dilationW (zero in the
/// padding), packed straight from x into GEMM panels without ever being stored: the forward
/// convolution is then y = W · col with no C/g·R·S × OH·OW intermediate in memory.
/// </summary>
internal readonly unsafe struct Im2ColPanels<T>(Conv2dGeometry g, T* x) : IPanelSource<T> where T : unmanaged
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
    {
        int ow = g.OW, rs = g.R * g.S;
        Span<int> segJ = stackalloc int[nr + 1], segLen = stackalloc int[nr + 1], segOh = stackalloc int[nr + 1], segOw = stackalloc int[nr + 1];
        for (int jp = j0; jp < j0 + nc; jp += nr)
        {
            int w = Math.Min(nr, j0 + nc - jp);
            // the panel's columns as runs within one output row
            int segs = 0;
            for (int j = 0, p = jp; j < w; segs++)
            {
                int o = p % ow, len = Math.Min(w - j, ow - o);
                segJ[segs] = j; segLen[segs] = len; segOh[segs] = p / ow; segOw[segs] = o;
                j += len;
                p += len;
            }
            for (int q = k0; q < k0 + kc; q++)
            {
                int c = q / rs, r = q / g.S % g.R, s = q % g.S;
                T* row = dst + (q - k0) * nr;
                for (int i = 0; i < segs; i++)
                {
                    T* d = row + segJ[i];
                    int len = segLen[i];
                    int ih = segOh[i] * g.StrideH - g.PadTop + r * g.DilationH;
                    if ((uint)ih >= (uint)g.H)
                    {
                        for (int t = 0; t < len; t++) d[t] = default;
                        continue;
                    }
                    T* src = x + ((long)c * g.H + ih) * g.W;
                    int iw0 = segOw[i] * g.StrideW - g.PadLeft + s * g.DilationW;
                    if (g.StrideW == 1)
                    {
                        int lo = Math.Clamp(-iw0, 0, len), hi = Math.Clamp(g.W - iw0, lo, len);
                        for (int t = 0; t < lo; t++) d[t] = default;
                        for (int t = lo; t < hi; t++) d[t] = src[iw0 + t];
                        for (int t = hi; t < len; t++) d[t] = default;
                    }
                    else
                    {
                        for (int t = 0, iw = iw0; t < len; t++, iw += g.StrideW)
                            d[t] = (uint)iw < (uint)g.W ? src[iw] : default;
                    }
                }
                for (int t = w; t < nr; t++) row[t] = default;
            }
            dst += nr * kc;
        }
    }
}

/// <summary>
/// The whole batch's column matrix of one group for tiny output maps (see CpuBackend's small-map products),
/// col[c·R·S + t, n·P + p] = x[n, gr·Cg + c, source[t·P + p]] (zero where source is −1, in the padding),
/// packed straight from x into GEMM panels, so the matrix is never stored.
/// </summary>
internal readonly unsafe struct BatchIm2ColPanels<T>(Conv2dGeometry g, T* x, int gr, int* source) : IPanelSource<T> where T : unmanaged
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
    {
        int P = g.OH * g.OW, rs = g.R * g.S, hw = g.H * g.W;
        long* imageAt = stackalloc long[nr];
        int* pixel = stackalloc int[nr];
        for (int jp = j0; jp < j0 + nc; jp += nr)
        {
            int w = Math.Min(nr, j0 + nc - jp);
            for (int j = 0; j < w; j++)
            {
                imageAt[j] = ((long)(jp + j) / P * g.C + gr * g.Cg) * hw;
                pixel[j] = (jp + j) % P;
            }
            for (int q = k0; q < k0 + kc; q++)
            {
                T* xc = x + (long)(q / rs) * hw;
                int* offsets = source + q % rs * P;
                T* row = dst + (q - k0) * nr;
                for (int j = 0; j < w; j++)
                {
                    int o = offsets[pixel[j]];
                    row[j] = o >= 0 ? xc[imageAt[j] + o] : default;
                }
                for (int j = w; j < nr; j++) row[j] = default;
            }
            dst += nr * kc;
        }
    }
}

/// <summary>
/// B of a whole-plane-window convolution (see CpuBackend): B[c·H·W + j, k·P + p] = w[k, c, taps[p·H·W + j]],
/// gathered from the weights [K, C, R, S] straight into GEMM panels.
/// </summary>
internal readonly unsafe struct TapGatherPanels<T>(Conv2dGeometry g, T* w, int* taps) : IPanelSource<T> where T : unmanaged
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Pack(int k0, int kc, int j0, int nc, int nr, T* dst)
    {
        int hw = g.H * g.W, rs = g.R * g.S, P = g.OH * g.OW;
        long kStride = (long)g.C * rs;
        for (int jp = j0; jp < j0 + nc; jp += nr)
        {
            int width = Math.Min(nr, j0 + nc - jp);
            // one column (output channel k, pixel p) at a time: its reads stay within weight row k, and the
            // strided writes land in the panel, which stays in L1
            for (int j = 0; j < nr; j++)
            {
                T* col = dst + j;
                if (j >= width)
                {
                    for (int q = 0; q < kc; q++) col[q * nr] = default;
                    continue;
                }
                int k = (jp + j) / P, p = (jp + j) % P;
                T* src = w + k * kStride + (long)(k0 / hw) * rs;
                int* tap = taps + p * hw;
                for (int q = 0, pix = k0 % hw; q < kc; q++)
                {
                    col[q * nr] = src[tap[pix]];
                    if (++pix == hw) { pix = 0; src += rs; }
                }
            }
            dst += nr * kc;
        }
    }
}
