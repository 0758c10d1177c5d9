using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>SGD's update rule, step by step, with the numbers derived in the comments.</summary>
public sealed class SgdTests
{
    [Fact]
    public void Plain_sgd_subtracts_lr_times_the_gradient()
    {
        // p = [1, 2], lr = 0.1
        // step 1, g = [0.5, -1]:  p = [1 − 0.05, 2 + 0.1] = [0.95, 2.1]
        // step 2, g = [1, 1]:     p = [0.95 − 0.1, 2.1 − 0.1] = [0.85, 2.0]
        var p = Param(1, 2);
        using var opt = new SGD([p], lr: 0.1);
        StepWith(opt, p, 0.5, -1);
        Near(p, 0.95, 2.1);
        StepWith(opt, p, 1, 1);
        Near(p, 0.85, 2.0);
        Assert.Empty(opt.GetState(p)!.Names);            // no momentum, no buffer
    }

    [Fact]
    public void Momentum_buffer_starts_as_the_first_gradient()
    {
        // μ = 0.9, lr = 0.1, p = 1
        // step 1, g = 1:  b = g = 1 (first step);      p = 1 − 0.1·1 = 0.9
        // step 2, g = 2:  b = 0.9·1 + 2 = 2.9;          p = 0.9 − 0.29 = 0.61
        // step 3, g = 0:  b = 0.9·2.9 + 0 = 2.61;       p = 0.61 − 0.261 = 0.349
        var p = Param(1.0);
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9);
        StepWith(opt, p, 1);
        Near(p, 0.9);
        Near([1.0], Values(opt.GetState(p)!["momentum_buffer"]));
        StepWith(opt, p, 2);
        Near(p, 0.61);
        StepWith(opt, p, 0);
        Near(p, 0.349);
        Near([2.61], Values(opt.GetState(p)!["momentum_buffer"]));
    }

    [Fact]
    public void Dampening_scales_the_gradient_after_the_first_step()
    {
        // μ = 0.9, τ = 0.5, lr = 0.1, p = 1
        // step 1, g = 1:  b = g = 1 (no dampening on the first step);  p = 0.9
        // step 2, g = 2:  b = 0.9·1 + (1 − 0.5)·2 = 1.9;                p = 0.9 − 0.19 = 0.71
        var p = Param(1.0);
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9, dampening: 0.5);
        StepWith(opt, p, 1);
        Near(p, 0.9);
        StepWith(opt, p, 2);
        Near(p, 0.71);
    }

    [Fact]
    public void Nesterov_looks_ahead_along_the_buffer()
    {
        // μ = 0.9, lr = 0.1, p = 1, Nesterov: d = g + μ·b
        // step 1, g = 1:  b = 1;                 d = 1 + 0.9·1 = 1.9;     p = 1 − 0.19 = 0.81
        // step 2, g = 2:  b = 0.9·1 + 2 = 2.9;   d = 2 + 0.9·2.9 = 4.61;  p = 0.81 − 0.461 = 0.349
        var p = Param(1.0);
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9, nesterov: true);
        StepWith(opt, p, 1);
        Near(p, 0.81);
        StepWith(opt, p, 2);
        Near(p, 0.349);
    }

    [Fact]
    public void Weight_decay_adds_lambda_p_to_the_gradient()
    {
        // λ = 0.1, lr = 0.1, p = 2
        // step 1, g = 1:  d = 1 + 0.1·2 = 1.2;       p = 2 − 0.12 = 1.88
        // step 2, g = 1:  d = 1 + 0.1·1.88 = 1.188;  p = 1.88 − 0.1188 = 1.7612
        var p = Param(2.0);
        using var opt = new SGD([p], lr: 0.1, weightDecay: 0.1);
        StepWith(opt, p, 1);
        Near(p, 1.88);
        StepWith(opt, p, 1);
        Near(p, 1.7612);
    }

    [Fact]
    public void Weight_decay_enters_the_momentum_buffer()
    {
        // λ = 0.1, μ = 0.9, lr = 0.1, p = 2
        // step 1, g = 1:  d = 1.2;    b = 1.2;                      p = 2 − 0.12 = 1.88
        // step 2, g = 1:  d = 1.188;  b = 0.9·1.2 + 1.188 = 2.268;  p = 1.88 − 0.2268 = 1.6532
        var p = Param(2.0);
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9, weightDecay: 0.1);
        StepWith(opt, p, 1);
        Near(p, 1.88);
        StepWith(opt, p, 1);
        Near(p, 1.6532);
    }

    [Fact]
    public void Float32_parameters_follow_the_same_rule()
    {
        // The momentum example above in float32: p = 1 → 0.9 → 0.61 → 0.349, to float32 precision.
        var p = new Parameter(Tensor.FromArray(new float[] { 1, 1 }), "w32");
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9);
        foreach (var (g, expected) in new[] { (1.0, 0.9), (2.0, 0.61), (0.0, 0.349) })
        {
            StepWith(opt, p, g, g);
            Assert.Equal(DType.Float32, p.DType);
            Near([expected, expected], Values(p), rtol: 1e-6);
        }
        Assert.Equal(DType.Float32, opt.GetState(p)!["momentum_buffer"].DType);
    }
}
