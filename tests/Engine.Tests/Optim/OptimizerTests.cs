using Engine.Optim;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>What every optimizer shares: groups, skipping, ZeroGrad, tensor scopes and the state dict.</summary>
public sealed class OptimizerTests
{
    [Fact]
    public void Frozen_parameters_and_parameters_without_gradients_are_skipped()
    {
        var trained = Param(1.0);
        var frozen = Param(1.0);
        var noGrad = Param(1.0);
        using var opt = new Adam([trained, frozen, noGrad], lr: 0.1);
        SetGrad(trained, 1);
        SetGrad(frozen, 1);
        frozen.SetRequiresGrad(false);
        opt.Step();
        Assert.NotEqual(1.0, Values(trained)[0]);
        Assert.Equal(1.0, Values(frozen)[0]);
        Assert.Equal(1.0, Values(noGrad)[0]);
        Assert.NotNull(opt.GetState(trained));
        Assert.Null(opt.GetState(frozen));
        Assert.Null(opt.GetState(noGrad));

        // Unfrozen later, it starts from its own first step (step count 1, fresh moments).
        frozen.SetRequiresGrad(true);
        opt.Step();
        Assert.Equal(1, opt.GetState(frozen)!.Step);
        Assert.Equal(2, opt.GetState(trained)!.Step);
    }

    [Fact]
    public void Groups_have_their_own_learning_rates_and_hyperparameters()
    {
        // SGD defaults lr = 0.1, momentum = 0.9; group 0 sets lr = 0.01; group 1 sets momentum = 0.
        // Two steps with g = 1:
        //   group 0: b = 1, p = 1 − 0.01 = 0.99;  b = 0.9 + 1 = 1.9, p = 0.99 − 0.019 = 0.971
        //   group 1: p = 1 − 0.1 = 0.9;  p = 0.9 − 0.1 = 0.8 (no momentum)
        var a = Param(1.0);
        var b = Param(1.0);
        using var opt = new SGD([new ParamGroup([a], learningRate: 0.01), new ParamGroup([b]) { ["momentum"] = 0 }],
            lr: 0.1, momentum: 0.9);
        Assert.Equal(0.01, opt.ParamGroups[0].LearningRate);
        Assert.Equal(0.9, opt.ParamGroups[0]["momentum"]);
        Assert.Equal(0.1, opt.ParamGroups[1].LearningRate);
        for (int i = 0; i < 2; i++)
        {
            SetGrad(a, 1);
            SetGrad(b, 1);
            opt.Step();
        }
        Near(a, 0.971);
        Near(b, 0.8);
    }

    [Fact]
    public void A_group_added_later_takes_the_defaults()
    {
        var a = Param(1.0);
        var b = Param(1.0);
        using var opt = new SGD([a], lr: 0.1);
        opt.AddParamGroup(new ParamGroup([b], learningRate: 1));
        Assert.Equal(2, opt.ParamGroups.Count);
        Assert.Equal(0.0, opt.ParamGroups[1].WeightDecay);
        SetGrad(a, 1);
        SetGrad(b, 1);
        opt.Step();
        Near(a, 0.9);
        Near(b, 0.0);
    }

    [Fact]
    public void ZeroGrad_clears_or_zeroes_every_gradient()
    {
        var a = Param(1.0);
        var b = Param(1.0, 2.0);
        using var opt = new SGD([a, b]);
        SetGrad(a, 3);
        SetGrad(b, 4, 5);
        opt.ZeroGrad(setToNone: false);
        Assert.Equal([0.0], Values(a.Grad!.Data));
        Assert.Equal([0.0, 0.0], Values(b.Grad!.Data));
        opt.ZeroGrad();
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
    }

    [Fact]
    public void State_survives_the_tensor_scope_of_each_training_step()
    {
        // Minimise L = (w − 3)² with SGD and momentum, each step in its own scope as a training loop does.
        var w = new Parameter(Tensor.FromArray(new double[] { 0 }), "w");
        using var opt = new SGD([w], lr: 0.1, momentum: 0.5);
        for (int i = 0; i < 50; i++)
        {
            using (Tensor.Scope())
            {
                opt.ZeroGrad();
                var d = w - 3.0;
                (d * d).Sum().Backward();
                opt.Step();
            }
        }
        var buffer = opt.GetState(w)!["momentum_buffer"];
        Assert.False(buffer.IsDisposed);
        Assert.False(w.Data.IsDisposed);
        Assert.True(Math.Abs(Values(w)[0] - 3) < 1e-6, $"w = {Values(w)[0]}");
        opt.Dispose();
        Assert.True(buffer.IsDisposed);
    }

    [Fact]
    public void Step_writes_into_the_parameters_tensor()
    {
        var p = Param(1.0);
        var tensor = p.Data;
        int version = tensor.Version;
        using var opt = new SGD([p], lr: 0.1);
        StepWith(opt, p, 1);
        Assert.Same(tensor, p.Data);
        Assert.True(tensor.Version > version);
    }

    [Fact]
    public void State_dict_names_every_hyperparameter_and_buffer()
    {
        var a = Param(1.0, 2.0);
        var b = Param(3.0);
        var c = Param(4.0);
        using var opt = new Adam([new ParamGroup([a, b]), new ParamGroup([c], learningRate: 0.5)], lr: 0.1, amsgrad: true);
        SetGrad(a, 1, 1);
        SetGrad(c, 1);
        opt.Step();
        using var scope = Tensor.Scope();
        var sd = opt.StateDict();
        string[] expected =
        [
            "param_groups.0.lr", "param_groups.0.beta1", "param_groups.0.beta2", "param_groups.0.eps", "param_groups.0.weight_decay", "param_groups.0.amsgrad", "param_groups.0.params",
            "param_groups.1.lr", "param_groups.1.beta1", "param_groups.1.beta2", "param_groups.1.eps", "param_groups.1.weight_decay", "param_groups.1.amsgrad", "param_groups.1.params",
            "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
            "state.2.step", "state.2.exp_avg", "state.2.exp_avg_sq", "state.2.max_exp_avg_sq",
        ];
        Assert.Equal(expected.Order(), sd.Keys.Order());
        Assert.Equal(0.5, sd["param_groups.1.lr"].Item<double>());
        Assert.Equal(0, sd["param_groups.0.lr"].Rank);
        Assert.Equal(1.0, sd["state.0.step"].Item<double>());
        Assert.Equal(1.0, sd["param_groups.0.amsgrad"].Item<double>());
        Assert.Equal([0L, 1L], sd["param_groups.0.params"].ToArray<long>());
        Assert.Equal([2L], sd["param_groups.1.params"].ToArray<long>());
        Assert.Equal([2], sd["state.0.exp_avg"].Shape.ToArray());

        // A copy: another step does not change it.
        double before = sd["state.0.exp_avg"][0];
        SetGrad(a, 5, 5);
        opt.Step();
        Assert.Equal(before, sd["state.0.exp_avg"][0]);
    }

    public static TheoryData<string> OptimizerNames => ["sgd", "sgd-nesterov", "adam", "adamw-amsgrad", "adagrad", "rmsprop", "rmsprop-centered-momentum"];

    private static Optimizer Make(string name, IEnumerable<ParamGroup> groups, double lr) => name switch
    {
        "sgd" => new SGD(groups, lr: lr, momentum: 0.9, dampening: 0.1, weightDecay: 0.01),
        "sgd-nesterov" => new SGD(groups, lr: lr, momentum: 0.9, nesterov: true),
        "adam" => new Adam(groups, lr: lr, weightDecay: 0.01),
        "adamw-amsgrad" => new AdamW(groups, lr: lr, amsgrad: true),
        "adagrad" => new Adagrad(groups, lr: lr, lrDecay: 0.1, initialAccumulatorValue: 0.5),
        "rmsprop" => new RMSprop(groups, lr: lr),
        "rmsprop-centered-momentum" => new RMSprop(groups, lr: lr, momentum: 0.5, centered: true),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void State_dict_round_trip_gives_an_identical_next_step(string name)
    {
        // Train two steps, save, load into a fresh optimizer (built with another lr, which the load
        // replaces) over copies of the parameters, then take the same step on both: identical results.
        double[][] init = [[1, -2, 3, 0.5], [0.25, -1], [2]];
        var original = init.Select(v => new Parameter(Tensor.FromArray(v), "w")).ToArray();
        var copy = init.Select(v => new Parameter(Tensor.FromArray(v), "w")).ToArray();
        using var opt = Make(name, [new ParamGroup(original[..2]), new ParamGroup(original[2..], learningRate: 0.05)], 0.1);
        double[][] grads = [[0.5, -1, 2, 0.1], [1, -0.5], [3]];
        for (int step = 0; step < 2; step++)
        {
            for (int i = 0; i < 3; i++) SetGrad(original[i], [.. grads[i].Select(g => g * (step + 1))]);
            opt.Step();
        }
        for (int i = 0; i < 3; i++) copy[i].Data.CopyFrom(original[i].Data);

        using var restored = Make(name, [new ParamGroup(copy[..2]), new ParamGroup(copy[2..], learningRate: 0.7)], 0.9);
        using (Tensor.Scope()) restored.LoadStateDict(opt.StateDict());
        Assert.Equal(0.05, restored.ParamGroups[1].LearningRate);
        Assert.Equal(0.1, restored.ParamGroups[0].LearningRate);

        for (int i = 0; i < 3; i++)
        {
            SetGrad(original[i], [.. grads[i].Select(g => -g)]);
            SetGrad(copy[i], [.. grads[i].Select(g => -g)]);
        }
        opt.Step();
        restored.Step();
        for (int i = 0; i < 3; i++) Assert.Equal(Values(original[i]), Values(copy[i]));
        using var scope = Tensor.Scope();
        var a = opt.StateDict();
        var b = restored.StateDict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys) Assert.Equal(Values(a[key].To(DType.Float64)), Values(b[key].To(DType.Float64)));
    }

    [Fact]
    public void Loading_replaces_all_state()
    {
        var p = Param(1.0);
        var q = Param(1.0);
        using var fresh = new Adam([p, q]);
        using var trained = new Adam([Param(1.0), Param(1.0)]);
        StepWith(trained, trained.ParamGroups[0].Parameters[0], 1);
        StepWith(fresh, q, 1);                 // q has state in 'fresh' but none in the saved dict
        using (Tensor.Scope()) fresh.LoadStateDict(trained.StateDict());
        Assert.Equal(1, fresh.GetState(p)!.Step);
        Assert.Null(fresh.GetState(q));
    }

    [Fact]
    public void Optimizer_state_follows_the_parameters_dtype()
    {
        var p64 = Param(1.0, 2.0);
        var p32 = new Parameter(Tensor.FromArray(new float[] { 1, 2 }), "p32");
        using var opt64 = new RMSprop([p64], centered: true);
        using var opt32 = new RMSprop([p32], centered: true);
        StepWith(opt64, p64, 1, 2);
        using var scope = Tensor.Scope();
        opt32.LoadStateDict(opt64.StateDict());
        Assert.Equal(DType.Float32, opt32.GetState(p32)!["grad_avg"].DType);
        Near(Values(opt64.GetState(p64)!["grad_avg"]), Values(opt32.GetState(p32)!["grad_avg"]), rtol: 1e-7);
    }
}
