namespace Engine.Data;

/// <summary>Bilinear interpolation along one axis as a matrix, shared by the resizing transforms.</summary>
/// <remarks>
/// A window of <c>length</c> inputs starting at <c>start</c> (of n along the axis) becomes m outputs
/// with PyTorch's <c>align_corners=False</c> rule: output i samples the window at
/// s = max(0, (i + ½)·length/m − ½); with i₀ = ⌊s⌋, i₁ = min(i₀ + 1, length − 1) and λ = s − i₀,
/// y[i] = (1 − λ)·x[start + i₀] + λ·x[start + i₁]. The m × n matrix A holds A[i, start + i₀] += 1 − λ
/// and A[i, start + i₁] += λ, so resizing is Y = A_H · X · A_Wᵀ.
/// </remarks>
internal static class Interpolation
{
    public static double[] Bilinear(int n, int start, int length, int m)
    {
        var a = new double[m * n];
        double scale = (double)length / m;
        for (int i = 0; i < m; i++)
        {
            double s = Math.Max(0, (i + 0.5) * scale - 0.5);
            int i0 = Math.Min((int)s, length - 1), i1 = Math.Min(i0 + 1, length - 1);
            double lambda = s - i0;
            a[i * n + start + i0] += 1 - lambda;
            a[i * n + start + i1] += lambda;
        }
        return a;
    }
}
