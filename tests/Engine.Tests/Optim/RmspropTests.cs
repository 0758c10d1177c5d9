using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>RMSprop's update rule, step by step, with the numbers derived in the comments.</summary>
public sealed class RmspropTests
{
    [Fact]
    public void Plain_rmsprop_divides_by_the_root_mean_square()
    {
        // lr = 0.1, α = 0.5, ε = 0, p = 1
        // step 1, g = 2:  v = 0.5·0 + 0.5·4 = 2;  p = 1 − 0.1·2/√2 = 0.8585786…
        // step 2, g = 1:  v = 0.5·2 + 0.5·1 = 1.5;  p = 0.8585786 − 0.1·1/√1.5 = 0.7769289…
        var p = Param(1.0);
        using var opt = new RMSprop([p], lr: 0.1, alpha: 0.5, eps: 0);
        StepWith(opt, p, 2);
        Near(p, 1 - 0.1 * 2 / Math.Sqrt(2));
        StepWith(opt, p, 1);
        Near(p, 1 - 0.1 * 2 / Math.Sqrt(2) - 0.1 / Math.Sqrt(1.5));
        Near([1.5], Values(opt.GetState(p)!["square_avg"]));
        Assert.Equal(["square_avg"], opt.GetState(p)!.Names);
    }

    [Fact]
    public void Centered_rmsprop_subtracts_the_squared_mean_gradient()
    {
        // lr = 0.1, α = 0.5, ε = 0, p = 1, centered
        // step 1, g = 2:  v = 2;  ḡ = 0.5·2 = 1;           d = √(2 − 1²) = 1;         p = 1 − 0.1·2/1 = 0.8
        // step 2, g = 1:  v = 1.5;  ḡ = 0.5·1 + 0.5·1 = 1;  d = √(1.5 − 1) = 0.7071…;  p = 0.8 − 0.1/0.7071 = 0.6585786…
        var p = Param(1.0);
        using var opt = new RMSprop([p], lr: 0.1, alpha: 0.5, eps: 0, centered: true);
        StepWith(opt, p, 2);
        Near(p, 0.8);
        StepWith(opt, p, 1);
        Near(p, 0.8 - 0.1 / Math.Sqrt(0.5));
        Near([1.0], Values(opt.GetState(p)!["grad_avg"]));
    }

    [Fact]
    public void Momentum_accumulates_the_normalised_gradient()
    {
        // lr = 0.1, α = 0.5, ε = 0, μ = 0.9, p = 1
        // step 1, g = 2:  v = 2;    b = 0 + 2/√2 = 1.4142136;                     p = 1 − 0.14142136 = 0.8585786
        // step 2, g = 1:  v = 1.5;  b = 0.9·1.4142136 + 1/√1.5 = 2.0892888;      p = 0.8585786 − 0.2089289 = 0.6496498
        var p = Param(1.0);
        using var opt = new RMSprop([p], lr: 0.1, alpha: 0.5, eps: 0, momentum: 0.9);
        StepWith(opt, p, 2);
        Near(p, 1 - 0.1 * Math.Sqrt(2));
        StepWith(opt, p, 1);
        double b2 = 0.9 * Math.Sqrt(2) + 1 / Math.Sqrt(1.5);
        Near([b2], Values(opt.GetState(p)!["momentum_buffer"]));
        Near(p, 1 - 0.1 * Math.Sqrt(2) - 0.1 * b2);
    }

    [Fact]
    public void Weight_decay_and_eps()
    {
        // λ = 1, p = 1, g = 1:  g' = 2;  v = 2;  p = 1 − 0.1·2/√2 = 0.8585786 (as step 1 above with g = 2)
        // ε = 1, g = 2:         v = 2;          p = 1 − 0.1·2/(√2 + 1) = 0.9171573
        var a = Param(1.0);
        var b = Param(1.0);
        using var withDecay = new RMSprop([a], lr: 0.1, alpha: 0.5, eps: 0, weightDecay: 1);
        using var withEps = new RMSprop([b], lr: 0.1, alpha: 0.5, eps: 1);
        StepWith(withDecay, a, 1);
        StepWith(withEps, b, 2);
        Near(a, 1 - 0.1 * Math.Sqrt(2));
        Near(b, 1 - 0.2 / (Math.Sqrt(2) + 1));
    }
}
