using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>Every public entry point of Engine.Optim given bad input: the exception type and what the message names.</summary>
public sealed class OptimBadInputTests
{
    private static Dictionary<string, Tensor> TrainedAdamState(Parameter[] ps)
    {
        using var opt = new Adam(ps);
        foreach (var p in ps) SetGrad(p, [.. Enumerable.Repeat(1.0, (int)p.Numel)]);
        opt.Step();
        return opt.StateDict();
    }

    [Fact]
    public void Loading_a_buffer_of_another_shape_names_the_key_and_both_shapes()
    {
        using var scope = Tensor.Scope();
        var saved = TrainedAdamState([Param([3], 1), Param([2, 4], 1)]);
        using var opt = new Adam([Param([3], 1), Param([4, 2], 1)]);
        var e = Assert.Throws<ShapeException>(() => opt.LoadStateDict(saved));
        Assert.Equal("Optimizer.LoadStateDict: state.1.exp_avg: [2, 4] x [4, 2]: shapes differ", e.Message);
        Assert.Null(opt.GetState(opt.ParamGroups[0].Parameters[0]));      // nothing was loaded
    }

    [Fact]
    public void A_failed_load_changes_nothing()
    {
        using var scope = Tensor.Scope();
        var p = Param(1.0);
        using var opt = new Adam([p], lr: 0.1);
        StepWith(opt, p, 1);
        var sd = opt.StateDict();
        sd["param_groups.0.lr"] = Tensor.Scalar(0.5, DType.Float64);
        sd["state.0.exp_avg"] = Tensor.Zeros([2], DType.Float64);
        Assert.Throws<ShapeException>(() => opt.LoadStateDict(sd));
        Assert.Equal(0.1, opt.ParamGroups[0].LearningRate);
        Near([0.1], Values(opt.GetState(p)!["exp_avg"]));
    }

    [Fact]
    public void Unexpected_and_missing_keys_are_named()
    {
        using var scope = Tensor.Scope();
        var saved = TrainedAdamState([Param(1.0)]);
        using var opt = new Adam([Param(1.0)]);

        var extra = new Dictionary<string, Tensor>(saved) { ["state.0.momentum_buffer"] = Tensor.Zeros([1], DType.Float64) };
        var e = Assert.Throws<EngineException>(() => opt.LoadStateDict(extra));
        Assert.StartsWith("Optimizer.LoadStateDict: state.0.momentum_buffer: unexpected key", e.Message);
        Assert.Contains("exp_avg_sq", e.Message);

        var outOfRange = new Dictionary<string, Tensor>(saved) { ["state.5.exp_avg"] = Tensor.Zeros([1], DType.Float64) };
        e = Assert.Throws<EngineException>(() => opt.LoadStateDict(outOfRange));
        Assert.StartsWith("Optimizer.LoadStateDict: state.5.exp_avg: unexpected key", e.Message);

        var noLr = new Dictionary<string, Tensor>(saved);
        noLr.Remove("param_groups.0.lr");
        e = Assert.Throws<EngineException>(() => opt.LoadStateDict(noLr));
        Assert.Equal("Optimizer.LoadStateDict: param_groups.0.lr: missing", e.Message);

        var partial = new Dictionary<string, Tensor>(saved);
        partial.Remove("state.0.exp_avg_sq");
        e = Assert.Throws<EngineException>(() => opt.LoadStateDict(partial));
        Assert.Equal("Optimizer.LoadStateDict: state.0.exp_avg_sq: missing (parameter 0 has other state)", e.Message);
    }

    [Fact]
    public void Another_optimizers_state_is_refused()
    {
        using var scope = Tensor.Scope();
        var p = Param(1.0);
        using var sgd = new SGD([p], momentum: 0.9);
        StepWith(sgd, p, 1);
        using var adam = new Adam([Param(1.0)]);
        var e = Assert.Throws<EngineException>(() => adam.LoadStateDict(sgd.StateDict()));
        Assert.Equal("Optimizer.LoadStateDict: param_groups.0.beta1: missing", e.Message);
    }

    [Fact]
    public void Another_grouping_is_refused()
    {
        using var scope = Tensor.Scope();
        var saved = TrainedAdamState([Param(1.0), Param(1.0)]);
        using var opt = new Adam([new ParamGroup([Param(1.0)]), new ParamGroup([Param(1.0)])]);
        var e = Assert.Throws<ShapeException>(() => opt.LoadStateDict(saved));
        Assert.Equal("Optimizer.LoadStateDict: param_groups.0.params: [2] x [1]: shapes differ", e.Message);
    }

    [Fact]
    public void Loaded_values_are_checked()
    {
        using var scope = Tensor.Scope();
        var saved = TrainedAdamState([Param(1.0)]);
        using var opt = new Adam([Param(1.0)]);

        var negativeLr = new Dictionary<string, Tensor>(saved) { ["param_groups.0.lr"] = Tensor.Scalar(-1, DType.Float64) };
        var e = Assert.Throws<EngineException>(() => opt.LoadStateDict(negativeLr));
        Assert.Equal("Optimizer.LoadStateDict: param_groups.0.lr = -1: must be a finite number >= 0", e.Message);

        var vectorLr = new Dictionary<string, Tensor>(saved) { ["param_groups.0.lr"] = Tensor.Zeros([2], DType.Float64) };
        var s = Assert.Throws<ShapeException>(() => opt.LoadStateDict(vectorLr));
        Assert.Equal("Optimizer.LoadStateDict: param_groups.0.lr: [2] x []: shapes differ", s.Message);

        var fractionalStep = new Dictionary<string, Tensor>(saved) { ["state.0.step"] = Tensor.Scalar(1.5, DType.Float64) };
        e = Assert.Throws<EngineException>(() => opt.LoadStateDict(fractionalStep));
        Assert.Equal("Optimizer.LoadStateDict: state.0.step = 1.5: must be a whole number >= 0", e.Message);

        var intBuffer = new Dictionary<string, Tensor>(saved) { ["state.0.exp_avg"] = Tensor.Zeros([1], DType.Int64) };
        Assert.Throws<DTypeException>(() => opt.LoadStateDict(intBuffer));
    }

    [Fact]
    public void Constructor_arguments_are_checked()
    {
        var p = Param(1.0);
        var e = Assert.Throws<EngineException>(() => new SGD([p], lr: -0.1));
        Assert.Equal("SGD: lr = -0.1: must be a finite number >= 0", e.Message);
        e = Assert.Throws<EngineException>(() => new Adam([p], beta1: 1));
        Assert.Equal("Adam: beta1 = 1: must be in [0, 1)", e.Message);
        e = Assert.Throws<EngineException>(() => new AdamW([p], eps: double.NaN));
        Assert.Equal("AdamW: eps = NaN: must be a finite number >= 0", e.Message);
        e = Assert.Throws<EngineException>(() => new RMSprop([p], momentum: -1));
        Assert.Equal("RMSprop: momentum = -1: must be a finite number >= 0", e.Message);
        e = Assert.Throws<EngineException>(() => new Adagrad([p], lrDecay: -1));
        Assert.Equal("Adagrad: lr_decay = -1: must be a finite number >= 0", e.Message);
        e = Assert.Throws<EngineException>(() => new SGD([p], nesterov: true));
        Assert.Equal("SGD: param_groups.0: Nesterov momentum needs momentum > 0 and dampening = 0 (momentum 0, dampening 0)", e.Message);
        e = Assert.Throws<EngineException>(() => new SGD(Array.Empty<Parameter>()));
        Assert.Equal("SGD: got an empty parameter list", e.Message);
        e = Assert.Throws<EngineException>(() => new SGD([p, p]));
        Assert.Contains("appears more than once", e.Message);
        e = Assert.Throws<EngineException>(() => new SGD([new ParamGroup([p]) { ["betas"] = 0.9 }]));
        Assert.Equal("SGD: param_groups.0.betas: unknown hyperparameter; SGD takes lr, momentum, dampening, weight_decay, nesterov", e.Message);
        e = Assert.Throws<EngineException>(() => new SGD([new ParamGroup([p], learningRate: -1)]));
        Assert.Equal("SGD: param_groups.0.lr = -1: must be a finite number >= 0", e.Message);
        e = Assert.Throws<EngineException>(() => new ParamGroup([p], learningRate: double.PositiveInfinity));
        Assert.Contains("must be a finite number", e.Message);
    }

    [Fact]
    public void Group_changes_are_checked_and_rejected_changes_leave_the_group_as_it_was()
    {
        var p = Param(1.0);
        using var opt = new SGD([p], lr: 0.1, momentum: 0.9, nesterov: true);
        var g = opt.ParamGroups[0];
        var e = Assert.Throws<EngineException>(() => g.LearningRate = -0.5);
        Assert.Equal("SGD: param_groups.0.lr = -0.5: must be a finite number >= 0", e.Message);
        Assert.Equal(0.1, g.LearningRate);
        e = Assert.Throws<EngineException>(() => g["dampening"] = 0.5);
        Assert.StartsWith("SGD: param_groups.0: Nesterov momentum needs", e.Message);
        Assert.Equal(0, g["dampening"]);
        e = Assert.Throws<EngineException>(() => g["nesterov"] = 0.5);
        Assert.Equal("SGD: param_groups.0.nesterov = 0.5: must be 0 or 1 (false or true)", e.Message);
        Assert.Throws<EngineException>(() => g["beta1"] = 0.9);
        Assert.Throws<EngineException>(() => _ = new ParamGroup([p])["momentum"]);
        e = Assert.Throws<EngineException>(() => opt.AddParamGroup(g));
        Assert.Contains("already belongs to an optimizer", e.Message);
        e = Assert.Throws<EngineException>(() => opt.AddParamGroup(new ParamGroup([p])));
        Assert.Contains("appears more than once", e.Message);
        Assert.Single(opt.ParamGroups);
    }

    [Fact]
    public void A_gradient_of_another_shape_is_refused()
    {
        var p = Param(1.0, 2.0);
        using var opt = new SGD([p]);
        p.Grad = new Variable(TensorScope.Escape(Tensor.Zeros([3], DType.Float64)));
        var e = Assert.Throws<ShapeException>(() => opt.Step());
        Assert.Equal("SGD.Step: parameter 0 'p': [2] x [3]: the gradient's shape differs from the parameter's", e.Message);
        Assert.Equal([1.0, 2.0], Values(p));
    }

    [Fact]
    public void A_disposed_optimizer_refuses_to_step()
    {
        var p = Param(1.0);
        var opt = new Adam([p]);
        opt.Dispose();
        SetGrad(p, 1);
        var e = Assert.Throws<ObjectDisposedException>(() => opt.Step());
        Assert.Contains("Adam.Step: the optimizer was disposed", e.Message);
        opt.Dispose();                                        // twice is fine
    }

    [Fact]
    public void Scheduler_arguments_are_checked()
    {
        using var opt = new SGD([Param(1.0)], lr: 0.1);
        Assert.Equal("StepLR: stepSize 0: must be >= 1", Assert.Throws<EngineException>(() => new StepLR(opt, 0)).Message);
        Assert.Equal("StepLR: gamma -0.5: must be a finite number >= 0", Assert.Throws<EngineException>(() => new StepLR(opt, 1, -0.5)).Message);
        Assert.Equal("CosineAnnealingLR: tMax 0: must be >= 1", Assert.Throws<EngineException>(() => new CosineAnnealingLR(opt, 0)).Message);
        Assert.Equal("CosineAnnealingLR: etaMin -1: must be a finite number >= 0", Assert.Throws<EngineException>(() => new CosineAnnealingLR(opt, 5, -1)).Message);
        Assert.Equal("LinearWarmup: warmupSteps 0: must be >= 1", Assert.Throws<EngineException>(() => new LinearWarmup(opt, 0)).Message);
        Assert.Equal("LinearWarmup: startFactor 0: must be in (0, 1]", Assert.Throws<EngineException>(() => new LinearWarmup(opt, 5, 0)).Message);
        using var other = new SGD([Param(1.0)]);
        Assert.Contains("another optimizer", Assert.Throws<EngineException>(() => new LinearWarmup(opt, 5, then: new StepLR(other, 1))).Message);
        Assert.Equal("ReduceLROnPlateau: factor 1: must be in [0, 1)", Assert.Throws<EngineException>(() => new ReduceLROnPlateau(opt, factor: 1)).Message);
        Assert.Equal("ReduceLROnPlateau: patience -1: must be >= 0", Assert.Throws<EngineException>(() => new ReduceLROnPlateau(opt, patience: -1)).Message);
        Assert.Equal("ReduceLROnPlateau: minLr -1: must be a finite number >= 0", Assert.Throws<EngineException>(() => new ReduceLROnPlateau(opt, minLr: -1)).Message);
        Assert.Equal("ReduceLROnPlateau: cooldown -2: must be >= 0", Assert.Throws<EngineException>(() => new ReduceLROnPlateau(opt, cooldown: -2)).Message);

        var schedule = new StepLR(opt, 1);
        opt.AddParamGroup(new ParamGroup([Param(2.0)]));
        Assert.Contains("created for 1 parameter group(s) but the optimizer has 2", Assert.Throws<EngineException>(() => schedule.Step()).Message);
    }

    [Fact]
    public void Clipping_arguments_are_checked()
    {
        var p = Param(1.0);
        SetGrad(p, 1);
        Assert.Equal("ClipGradNorm: maxNorm -1: must be >= 0", Assert.Throws<EngineException>(() => GradientClipping.ClipGradNorm([p], -1)).Message);
        Assert.Equal("ClipGradNorm: normType 0: must be > 0 (or infinity)", Assert.Throws<EngineException>(() => GradientClipping.ClipGradNorm([p], 1, 0)).Message);
        Assert.Equal("ClipGradValue: clipValue NaN: must be >= 0", Assert.Throws<EngineException>(() => GradientClipping.ClipGradValue([p], double.NaN)).Message);
        SetGrad(p, double.NaN);
        var e = Assert.Throws<EngineException>(() => GradientClipping.ClipGradNorm([p], 1, errorIfNonfinite: true));
        Assert.StartsWith("ClipGradNorm: the total 2-norm of the gradients is NaN", e.Message);
    }
}
