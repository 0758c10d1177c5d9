using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>Gradient clipping by total norm and by value.</summary>
public sealed class ClipTests
{
    [Fact]
    public void Norm_is_taken_over_all_gradients_together()
    {
        // g₁ = [3, 4], g₂ = [12]:  total = √(9 + 16 + 144) = 13;  maxNorm 6.5 → every gradient × 6.5/(13 + 1e-6) ≈ 0.5
        var a = Param(0.0, 0.0);
        var b = Param(0.0);
        var frozenWithoutGrad = Param(0.0);
        SetGrad(a, 3, 4);
        SetGrad(b, 12);
        double total = GradientClipping.ClipGradNorm([a, b, frozenWithoutGrad], maxNorm: 6.5);
        Assert.Equal(13, total, 12);
        double c = 6.5 / (13 + 1e-6);
        Near([3 * c, 4 * c], Values(a.Grad!.Data));
        Near([12 * c], Values(b.Grad!.Data));
        Assert.Null(frozenWithoutGrad.Grad);
    }

    [Fact]
    public void Gradients_under_the_limit_are_unchanged()
    {
        var a = Param(0.0, 0.0);
        SetGrad(a, 3, 4);
        Assert.Equal(5, GradientClipping.ClipGradNorm([a], maxNorm: 20), 12);
        Assert.Equal([3.0, 4.0], Values(a.Grad!.Data));
    }

    [Fact]
    public void Other_norm_types()
    {
        // g₁ = [3, −4], g₂ = [2]:  ∞-norm max|g| = 4;  1-norm 3 + 4 + 2 = 9;  3-norm (27 + 64 + 8)^(1/3) = 99^(1/3)
        var a = Param(0.0, 0.0);
        var b = Param(0.0);
        SetGrad(a, 3, -4);
        SetGrad(b, 2);
        Assert.Equal(9, GradientClipping.ClipGradNorm([a, b], 100, normType: 1), 12);
        Assert.Equal(Math.Cbrt(99), GradientClipping.ClipGradNorm([a, b], 100, normType: 3), 12);
        // ∞-norm 4 clipped to 2: × 2/(4 + 1e-6) ≈ 0.5
        Assert.Equal(4, GradientClipping.ClipGradNorm([a, b], 2, normType: double.PositiveInfinity));
        double c = 2 / (4 + 1e-6);
        Near([3 * c, -4 * c], Values(a.Grad!.Data));
        Near([2 * c], Values(b.Grad!.Data));
    }

    [Fact]
    public void Float32_gradients_are_clipped_in_place()
    {
        var p = new Parameter(Tensor.FromArray(new float[] { 0, 0 }), "w32");
        SetGrad(p, 30, 40);
        var grad = p.Grad!.Data;
        Assert.Equal(50, GradientClipping.ClipGradNorm([p], 1), 4);
        Assert.Same(grad, p.Grad!.Data);
        Near([0.6, 0.8], Values(grad), rtol: 1e-6);
    }

    [Fact]
    public void Values_are_clamped_elementwise()
    {
        // clip 1: [3, −4, 0.5] → [1, −1, 0.5]
        var p = Param(0.0, 0.0, 0.0);
        SetGrad(p, 3, -4, 0.5);
        GradientClipping.ClipGradValue([p, Param(1.0)], 1);
        Assert.Equal([1.0, -1.0, 0.5], Values(p.Grad!.Data));
    }
}
