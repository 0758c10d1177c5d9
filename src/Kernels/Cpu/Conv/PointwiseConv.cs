namespace Engine.Kernels;

/// <summary>
/// A 1×1 convolution with stride 1 and no padding: each image [C, H·W] is its own column matrix, so per image and group
///   forward          y = w · x           (Kg × Cg) · (Cg × H·W)
///   backward-input   dx = wᵀ · dy        (Cg × Kg) · (Kg × H·W)
///   backward-weight  dw = Σ_images dy · xᵀ
/// with the image loops of <see cref="Im2ColConv"/>.
/// </summary>
internal static unsafe class PointwiseConv
{
    public static void Forward<T>(Conv2dGeometry g, T* x, T* w, T* y, long ws = 0) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg;
        nint px = (nint)x, pw = (nint)w, py = (nint)y;
        Im2ColConv.ForImages(g, (n, par) =>
        {
            for (int gr = 0; gr < g.Groups; gr++)
                Gemm.Run(g.Kg, P, Q, (T*)pw + (long)gr * g.Kg * Q, Q, 1, (T*)px + ((long)n * g.C + gr * g.Cg) * P, P, 1,
                    (T*)py + ((long)n * g.K + gr * g.Kg) * P, P, 1, accumulate: false, parallel: par, ws);
        });
    }

    public static void BackwardInput<T>(Conv2dGeometry g, T* dy, T* w, T* dx, long ws = 0) where T : unmanaged
    {
        int P = g.OH * g.OW, Q = g.Cg;
        nint pdy = (nint)dy, pw = (nint)w, pdx = (nint)dx;
        Im2ColConv.ForImages(g, (n, par) =>
        {
            // dx_g[Q × P] = w_gᵀ · dy_g : A = w_gᵀ has row stride 1 and column stride Q
            for (int gr = 0; gr < g.Groups; gr++)
                Gemm.Run(Q, P, g.Kg, (T*)pw + (long)gr * g.Kg * Q, 1, Q, (T*)pdy + ((long)n * g.K + gr * g.Kg) * P, P, 1,
                    (T*)pdx + ((long)n * g.C + gr * g.Cg) * P, P, 1, accumulate: false, parallel: par, ws);
        });
    }

    public static void BackwardWeight<T>(Conv2dGeometry g, T* x, T* dy, T* dw) where T : unmanaged =>
        Im2ColConv.WeightGradient(g, x, dy, dw, columns: false);
}
