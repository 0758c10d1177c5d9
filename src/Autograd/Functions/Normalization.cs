namespace Engine.Functions;

/// <summary>The standardisation shared by <see cref="BatchNorm"/> and <see cref="LayerNorm"/>.</summary>
/// <remarks>
/// x̂ = (x − μ)·s with μ and σ² the mean and (biased) variance over the normalised axes and
/// s = 1/√(σ² + ε). For an upstream gradient ĝ on x̂ and M elements per group:
///   ∂L/∂x = (s / M)·(M·ĝ − Σĝ − x̂·Σ(ĝ·x̂))
/// (from ∂x̂ᵢ/∂xⱼ = s·(δᵢⱼ − 1/M − x̂ᵢx̂ⱼ/M)).
/// </remarks>
internal static class Normalization
{
    /// <summary>The mean, the biased variance σ² and s = 1/√(σ² + ε) over the axes (kept as size 1).</summary>
    public static (Tensor Mean, Tensor Var, Tensor InvStd) Statistics(Tensor x, int[] axes, double eps)
    {
        var var = x.Var(axes, correction: 0, keepDim: true);
        using var shifted = var + eps;
        using var std = shifted.Sqrt();
        return (x.Mean(axes, keepDim: true), var, std.Reciprocal());
    }

    /// <summary>∂L/∂x from ĝ = ∂L/∂x̂, x̂ and s, over the normalised axes.</summary>
    public static Tensor InputGrad(Tensor gHat, Tensor xhat, Tensor invStd, int[] axes)
    {
        using var scope = Tensor.Scope();
        long m = ReducedSize(gHat.Shape, axes);
        var sum = gHat.Sum(axes, keepDim: true);
        var sumX = (gHat * xhat).Sum(axes, keepDim: true);
        return scope.Keep(invStd / m * (gHat * m - sum - xhat * sumX));
    }

    /// <summary>
    /// x̂ and s from <paramref name="x"/> with recorded ops, for second-order gradients: the same
    /// values as <see cref="Statistics"/>, but differentiable with respect to x.
    /// </summary>
    public static (Variable Xhat, Variable InvStd) Standardize(Variable x, int[] axes, double eps)
    {
        var centered = x - x.Mean(axes, keepDim: true);
        var invStd = 1.0 / ((centered * centered).Mean(axes, keepDim: true) + eps).Sqrt();
        return (centered * invStd, invStd);
    }

    /// <summary><see cref="InputGrad(Tensor, Tensor, Tensor, int[])"/> with recorded ops (differentiable in ĝ, x̂ and s).</summary>
    public static Variable InputGrad(Variable gHat, Variable xhat, Variable invStd, int[] axes)
    {
        long m = ReducedSize(gHat.Shape, axes);
        var sum = gHat.Sum(axes, keepDim: true);
        var sumX = (gHat * xhat).Sum(axes, keepDim: true);
        return invStd / m * (gHat * m - sum - xhat * sumX);
    }

    private static long ReducedSize(ReadOnlySpan<int> shape, int[] axes)
    {
        long n = 1;
        foreach (int a in axes) n *= shape[a];
        return n;
    }
}
