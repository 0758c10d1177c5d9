using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>Learning-rate schedules against sequences computed by hand.</summary>
public sealed class SchedulerTests
{
    /// <summary>The learning rate after creation (epoch 0) and after each of <paramref name="steps"/> steps.</summary>
    private static double[] Sequence(LRScheduler s, int steps)
    {
        var lrs = new List<double> { s.GetLastLr()[0] };
        for (int i = 0; i < steps; i++)
        {
            s.Step();
            lrs.Add(s.GetLastLr()[0]);
            Assert.Equal(s.GetLastLr()[0], s.Optimizer.ParamGroups[0].LearningRate);
        }
        return [.. lrs];
    }

    [Fact]
    public void StepLR_multiplies_by_gamma_every_step_size_epochs()
    {
        // base 0.1, stepSize 2, γ 0.5:  lr(e) = 0.1·0.5^⌊e/2⌋ = 0.1, 0.1, 0.05, 0.05, 0.025, 0.025
        using var opt = new SGD([Param(1.0)], lr: 0.1);
        Near([0.1, 0.1, 0.05, 0.05, 0.025, 0.025], Sequence(new StepLR(opt, stepSize: 2, gamma: 0.5), 5));
    }

    [Fact]
    public void StepLR_scales_every_group_from_its_own_base()
    {
        using var opt = new SGD([new ParamGroup([Param(1.0)]), new ParamGroup([Param(1.0)], learningRate: 1.0)], lr: 0.1);
        var s = new StepLR(opt, stepSize: 1, gamma: 0.1);
        s.Step();
        s.Step();
        Near([0.001, 0.01], [.. s.GetLastLr()]);
        Near([0.1, 1.0], [.. s.BaseLrs]);
        Assert.Equal(2, s.LastEpoch);
    }

    [Fact]
    public void CosineAnnealingLR_follows_half_a_cosine()
    {
        // base 1, T_max 4, η_min 0:  lr(e) = (1 + cos(π·e/4))/2
        //   e = 0: 1;  1: (1 + 0.7071068)/2 = 0.8535534;  2: 0.5;  3: (1 − 0.7071068)/2 = 0.1464466;  4: 0
        using var opt = new SGD([Param(1.0)], lr: 1);
        double c = Math.Sqrt(0.5);
        Near([1, (1 + c) / 2, 0.5, (1 - c) / 2, 0], Sequence(new CosineAnnealingLR(opt, tMax: 4), 4), atol: 1e-15);
    }

    [Fact]
    public void CosineAnnealingLR_ends_at_eta_min()
    {
        // base 1, T_max 2, η_min 0.1:  lr(e) = 0.1 + 0.9·(1 + cos(π·e/2))/2 = 1, 0.55, 0.1
        using var opt = new SGD([Param(1.0)], lr: 1);
        Near([1, 0.55, 0.1], Sequence(new CosineAnnealingLR(opt, tMax: 2, etaMin: 0.1), 2));
    }

    [Fact]
    public void LinearWarmup_rises_linearly_then_holds()
    {
        // base 0.1, W = 4, f = 0.2:  lr(e) = 0.1·(0.2 + 0.8·e/4) = 0.02, 0.04, 0.06, 0.08, then 0.1, 0.1
        using var opt = new SGD([Param(1.0)], lr: 0.1);
        Near([0.02, 0.04, 0.06, 0.08, 0.1, 0.1], Sequence(new LinearWarmup(opt, warmupSteps: 4, startFactor: 0.2), 5));
    }

    [Fact]
    public void LinearWarmup_hands_over_to_the_next_scheduler()
    {
        // base 0.1, W = 2, f = 0.5, then StepLR(stepSize 1, γ 0.5) from its epoch 0:
        //   e = 0: 0.05;  1: 0.075;  2: next(0) = 0.1;  3: next(1) = 0.05;  4: next(2) = 0.025
        using var opt = new SGD([Param(1.0)], lr: 0.1);
        var decay = new StepLR(opt, stepSize: 1, gamma: 0.5);
        Near([0.05, 0.075, 0.1, 0.05, 0.025], Sequence(new LinearWarmup(opt, warmupSteps: 2, startFactor: 0.5, then: decay), 4));
    }

    [Fact]
    public void ReduceLROnPlateau_lowers_the_rate_after_patience_bad_epochs()
    {
        // lr 1, factor 0.5, patience 2, threshold 0; losses and what happens:
        //   1.0 best;  0.9 best;  0.95 bad 1;  0.93 bad 2;  0.92 bad 3 > 2 → lr 0.5, bad 0;  0.91 bad 1;  0.5 best
        using var opt = new SGD([Param(1.0)], lr: 1);
        var s = new ReduceLROnPlateau(opt, factor: 0.5, patience: 2, threshold: 0);
        var lrs = new List<double>();
        foreach (var loss in new[] { 1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.5 })
        {
            s.Step(loss);
            lrs.Add(s.GetLastLr()[0]);
        }
        Assert.Equal([1, 1, 1, 1, 0.5, 0.5, 0.5], lrs);
        Assert.Equal(0.5, s.Best);
        Assert.Equal(7, s.LastEpoch);
    }

    [Fact]
    public void ReduceLROnPlateau_waits_out_the_cooldown()
    {
        // lr 1, factor 0.5, patience 0, cooldown 1, the same loss each epoch:
        //   e1 best;  e2 bad 1 > 0 → 0.5, cooldown 1;  e3 bad, but cooling down → no change;  e4 bad 1 > 0 → 0.25
        using var opt = new SGD([Param(1.0)], lr: 1);
        var s = new ReduceLROnPlateau(opt, factor: 0.5, patience: 0, cooldown: 1);
        var lrs = new List<double>();
        for (int e = 0; e < 4; e++)
        {
            s.Step(1.0);
            lrs.Add(opt.ParamGroups[0].LearningRate);
        }
        Assert.Equal([1, 0.5, 0.5, 0.25], lrs);
    }

    [Fact]
    public void ReduceLROnPlateau_max_mode_with_an_absolute_threshold_and_a_floor()
    {
        // Accuracy, higher is better, threshold 0.1 absolute, patience 0, factor 0.1, min lr 0.05:
        //   0.5 best;  0.55 not above 0.6 → 1·0.1 = 0.1;  0.7 above 0.6 → best, 0.1;
        //   0.7 bad → max(0.01, 0.05) = 0.05;  0.7 bad → 0.05 stays (no change larger than eps)
        using var opt = new SGD([Param(1.0)], lr: 1);
        var s = new ReduceLROnPlateau(opt, PlateauMode.Max, factor: 0.1, patience: 0, threshold: 0.1,
            thresholdMode: ThresholdMode.Absolute, minLr: 0.05);
        var lrs = new List<double>();
        foreach (var acc in new[] { 0.5, 0.55, 0.7, 0.7, 0.7 })
        {
            s.Step(acc);
            lrs.Add(s.GetLastLr()[0]);
        }
        Near([1, 0.1, 0.1, 0.05, 0.05], [.. lrs]);
        Assert.Equal(0.7, s.Best);
    }

    [Fact]
    public void ReduceLROnPlateau_relative_threshold()
    {
        // min mode, threshold 0.1 relative, patience 0: after best 1.0, 0.95 is not below 1.0·(1 − 0.1) = 0.9 → reduce
        using var opt = new SGD([Param(1.0)], lr: 1);
        var s = new ReduceLROnPlateau(opt, factor: 0.5, patience: 0, threshold: 0.1);
        s.Step(1.0);
        s.Step(0.95);
        Assert.Equal(0.5, opt.ParamGroups[0].LearningRate);
        s.Step(0.85);
        Assert.Equal(0.85, s.Best);
        Assert.Equal(0.5, opt.ParamGroups[0].LearningRate);
    }
}
