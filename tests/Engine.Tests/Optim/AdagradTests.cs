using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>Adagrad's update rule, step by step, with the numbers derived in the comments.</summary>
public sealed class AdagradTests
{
    [Fact]
    public void The_sum_of_squares_scales_each_element()
    {
        // lr = 0.1, ε = 0, p = [1, 1]
        // step 1, g = [3, 4]:  s = [9, 16];   p = [1 − 0.1·3/3, 1 − 0.1·4/4] = [0.9, 0.9]
        // step 2, g = [4, 3]:  s = [25, 25];  p = [0.9 − 0.1·4/5, 0.9 − 0.1·3/5] = [0.82, 0.84]
        var p = Param(1, 1);
        using var opt = new Adagrad([p], lr: 0.1, eps: 0);
        StepWith(opt, p, 3, 4);
        Near(p, 0.9, 0.9);
        StepWith(opt, p, 4, 3);
        Near(p, 0.82, 0.84);
        Near([25, 25], Values(opt.GetState(p)!["sum"]));
        Assert.Equal(2, opt.GetState(p)!.Step);
    }

    [Fact]
    public void Learning_rate_decays_with_the_step_count()
    {
        // lr = 0.1, η = 0.5: step t uses 0.1/(1 + (t − 1)·0.5): 0.1, then 0.1/1.5 = 0.0666…
        // step 2 of the example above:  p = [0.9 − 0.0666…·0.8, 0.9 − 0.0666…·0.6] = [0.84666…, 0.86]
        var p = Param(1, 1);
        using var opt = new Adagrad([p], lr: 0.1, lrDecay: 0.5, eps: 0);
        StepWith(opt, p, 3, 4);
        Near(p, 0.9, 0.9);
        StepWith(opt, p, 4, 3);
        Near(p, 0.9 - 0.1 / 1.5 * 0.8, 0.86);
    }

    [Fact]
    public void Initial_accumulator_weight_decay_and_eps()
    {
        // initial accumulator 7, g = 3:   s = 7 + 9 = 16;           p = 1 − 0.1·3/4 = 0.925
        // weight decay 1, p = 1, g = 1:   g' = 2;  s = 4;           p = 1 − 0.1·2/2 = 0.9
        // ε = 1, g = 3:                   s = 9;                    p = 1 − 0.1·3/(3 + 1) = 0.925
        var a = Param(1.0);
        var b = Param(1.0);
        var c = Param(1.0);
        using var withInit = new Adagrad([a], lr: 0.1, initialAccumulatorValue: 7, eps: 0);
        using var withDecay = new Adagrad([b], lr: 0.1, weightDecay: 1, eps: 0);
        using var withEps = new Adagrad([c], lr: 0.1, eps: 1);
        StepWith(withInit, a, 3);
        StepWith(withDecay, b, 1);
        StepWith(withEps, c, 3);
        Near(a, 0.925);
        Near(b, 0.9);
        Near(c, 0.925);
    }
}
