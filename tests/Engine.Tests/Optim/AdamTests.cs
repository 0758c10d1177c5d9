using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>Adam's and AdamW's update rules, step by step, with the numbers derived in the comments.</summary>
public sealed class AdamTests
{
    [Fact]
    public void Two_steps_with_bias_correction()
    {
        // lr = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, p = 1
        // step 1, g = 1:  m = 0.1·1 = 0.1;  v = 0.001·1 = 0.001;  1 − β₁¹ = 0.1;  1 − β₂¹ = 0.001
        //                 m/(1 − β₁) = 1;  √v/√(1 − β₂) = 1;     p = 1 − 0.1·1/(1 + 1e-8) = 0.900000001
        // step 2, g = 2:  m = 0.9·0.1 + 0.1·2 = 0.29;  v = 0.999·0.001 + 0.001·4 = 0.004999
        //                 1 − β₁² = 0.19;  1 − β₂² = 0.001999
        //                 m̂ = 0.29/0.19 = 1.5263157894…;  √(0.004999/0.001999) = 1.5813761017…
        //                 p = 0.900000001 − 0.1·1.5263157894/(1.5813761017 + 1e-8) = 0.8034817990…
        var p = Param(1.0);
        using var opt = new Adam([p], lr: 0.1);
        StepWith(opt, p, 1);
        double p1 = 1 - 0.1 * 1 / (1 + 1e-8);
        Near(p, p1);
        var s = opt.GetState(p)!;
        Assert.Equal(1, s.Step);
        Near([0.1], Values(s["exp_avg"]));
        Near([0.001], Values(s["exp_avg_sq"]));
        StepWith(opt, p, 2);
        Near(p, p1 - 0.1 * (0.29 / 0.19) / (Math.Sqrt(0.004999 / 0.001999) + 1e-8));
        Near([0.29], Values(s["exp_avg"]));
        Near([0.004999], Values(s["exp_avg_sq"]));
        Assert.Equal(2, s.Step);
        Assert.False(s.Contains("max_exp_avg_sq"));
    }

    [Fact]
    public void Amsgrad_keeps_the_largest_second_moment()
    {
        // lr = 0.1, β₁ = β₂ = 0.5, ε = 0, p = 1
        // step 1, g = 2:  m = 1;  v = 0.5·4 = 2;  v̂max = 2;  1 − β¹ = 0.5 for both
        //                 m̂ = 2;  √2/√0.5 = 2;  p = 1 − 0.1·2/2 = 0.9 (with or without AMSGrad)
        // step 2, g = 0:  m = 0.5;  v = 1;  v̂max = max(2, 1) = 2;  1 − β² = 0.75 for both
        //                 m̂ = 0.5/0.75 = 2/3
        //   AMSGrad:  p = 0.9 − 0.1·(2/3)/(√2/√0.75) = 0.9 − 0.0408248… = 0.8591751…
        //   plain:    p = 0.9 − 0.1·(2/3)/(√1/√0.75) = 0.9 − 0.0577350… = 0.8422649…
        var a = Param(1.0);
        var b = Param(1.0);
        using var ams = new Adam([a], lr: 0.1, beta1: 0.5, beta2: 0.5, eps: 0, amsgrad: true);
        using var plain = new Adam([b], lr: 0.1, beta1: 0.5, beta2: 0.5, eps: 0);
        StepWith(ams, a, 2);
        StepWith(plain, b, 2);
        Near(a, 0.9);
        Near(b, 0.9);
        StepWith(ams, a, 0);
        StepWith(plain, b, 0);
        Near(a, 0.9 - 0.1 * (2.0 / 3) * Math.Sqrt(0.75) / Math.Sqrt(2));
        Near(b, 0.9 - 0.1 * (2.0 / 3) * Math.Sqrt(0.75));
        Near([2.0], Values(ams.GetState(a)!["max_exp_avg_sq"]));
        Near([1.0], Values(ams.GetState(a)!["exp_avg_sq"]));
    }

    [Fact]
    public void Adam_weight_decay_is_an_L2_term_in_the_gradient()
    {
        // λ = 0.5, lr = 0.1, p = 2, g = 1:  g' = 1 + 0.5·2 = 2 enters both moments
        //   m = 0.1·2 = 0.2;  v = 0.001·4 = 0.004;  m̂ = 2;  √v̂ = 2;  p = 2 − 0.1·2/(2 + 1e-8) = 1.9000000005
        var p = Param(2.0);
        using var opt = new Adam([p], lr: 0.1, weightDecay: 0.5);
        StepWith(opt, p, 1);
        Near(p, 2 - 0.1 * 2 / (2 + 1e-8));
        Near([0.2], Values(opt.GetState(p)!["exp_avg"]));
        Near([0.004], Values(opt.GetState(p)!["exp_avg_sq"]));
    }

    [Fact]
    public void AdamW_decays_the_weights_directly()
    {
        // λ = 0.5, lr = 0.1, p = 2, g = 1:  p ← 2·(1 − 0.1·0.5) = 1.9 first; the moments see g alone
        //   m = 0.1;  v = 0.001;  m̂ = 1;  √v̂ = 1;  p = 1.9 − 0.1·1/(1 + 1e-8) = 1.800000001
        // step 2, g = 1:  p ← 1.800000001·0.95 = 1.71000000095
        //   m = 0.19;  v = 0.001999;  m̂ = 0.19/0.19 = 1;  √(0.001999/0.001999) = 1;  p = 1.71000000095 − 0.1/(1 + 1e-8)
        var p = Param(2.0);
        using var opt = new AdamW([p], lr: 0.1, weightDecay: 0.5);
        StepWith(opt, p, 1);
        double p1 = 1.9 - 0.1 / (1 + 1e-8);
        Near(p, p1);
        Near([0.1], Values(opt.GetState(p)!["exp_avg"]));
        Near([0.001], Values(opt.GetState(p)!["exp_avg_sq"]));
        StepWith(opt, p, 1);
        Near(p, p1 * 0.95 - 0.1 / (1 + 1e-8));
    }

    [Fact]
    public void AdamW_defaults_are_pytorchs()
    {
        var p = Param(1.0);
        using var opt = new AdamW([p]);
        var g = opt.ParamGroups[0];
        Assert.Equal(1e-3, g.LearningRate);
        Assert.Equal(1e-2, g.WeightDecay);
        Assert.Equal(0.9, g["beta1"]);
        Assert.Equal(0.999, g["beta2"]);
        Assert.Equal(1e-8, g["eps"]);
        Assert.Equal(0, g["amsgrad"]);
    }

    [Fact]
    public void Float32_parameters_follow_the_same_rule()
    {
        // The two-step example above, in float32.
        var p = new Parameter(Tensor.FromArray(new float[] { 1 }), "w32");
        using var opt = new Adam([p], lr: 0.1);
        StepWith(opt, p, 1);
        StepWith(opt, p, 2);
        Near([0.8034817990281656], Values(p), rtol: 1e-6);
        Assert.Equal(DType.Float32, opt.GetState(p)!["exp_avg_sq"].DType);
    }
}
