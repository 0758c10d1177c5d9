using Engine.Layers;

namespace Engine.Tests;

/// <summary>The module tree: names, modes, freezing, state dicts and summaries.</summary>
public sealed class ModuleTests
{
    private static Sequential Net(Generator? g = null) => new(
        new Conv2d(1, 4, 3, padding: 1, generator: g),
        new BatchNorm2d(4),
        new ReLU(),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(4 * 4 * 4, 3, generator: g));

    [Fact]
    public void Parameters_have_dotted_names_from_the_root()
    {
        var outer = new Sequential(Net(), new Dropout(0.1));
        var names = outer.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(["0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "0.5.weight", "0.5.bias"], names);
        Assert.Equal("0.5.weight", outer.NamedParameters().Last(p => p.Name.EndsWith("weight")).Value.Name);
        Assert.Equal(["0.1.running_mean", "0.1.running_var"], outer.NamedBuffers().Select(b => b.Name));
        Assert.IsType<Linear>(outer.GetModule("0.5"));
        Assert.Throws<EngineException>(() => outer.GetModule("0.9"));
    }

    [Fact]
    public void Train_eval_and_freeze_apply_to_the_whole_subtree()
    {
        var net = Net();
        net.Eval();
        Assert.All(net.NamedModules(), m => Assert.False(m.Value.IsTraining));
        net.Train();
        var bn = (BatchNorm2d)net[1];
        net.GetModule("0").Freeze();
        Assert.False(((Conv2d)net[0]).Weight.RequiresGrad);
        Assert.True(((Linear)net[5]).Weight.RequiresGrad);
        var (trainable, frozen) = net.ParameterCounts();
        Assert.Equal(4 * 9 + 4, frozen);
        Assert.Equal(8 + 64 * 3 + 3, trainable);
        Assert.Equal(2 * 4 + 64 * 3 + 3, net.Parameters(trainableOnly: true).Sum(p => p.Numel));
        // a frozen batch norm uses (and keeps) its running statistics even in training mode
        bn.Freeze();
        using var scope = Tensor.Scope();
        var before = bn.RunningMean.ToArray<float>();
        net.Call(new Variable(Tensor.RandN(2, 1, 8, 8)));
        Assert.Equal(before, bn.RunningMean.ToArray<float>());
        bn.Unfreeze();
        net.Call(new Variable(Tensor.RandN(2, 1, 8, 8)));
        Assert.NotEqual(before, bn.RunningMean.ToArray<float>());
    }

    [Fact]
    public void State_dicts_round_trip_and_mismatches_name_the_tensor_and_shapes()
    {
        var a = Net(new Generator(1));
        var b = Net(new Generator(2));
        Assert.NotEqual(a.StateDict()["0.weight"].ToArray<float>(), b.StateDict()["0.weight"].ToArray<float>());
        b.LoadStateDict(a.StateDict());
        foreach (var (k, v) in a.StateDict()) Assert.Equal(v.ToArray<float>(), b.StateDict()[k].ToArray<float>());

        var other = new Sequential(new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(64, 5));
        var before = other.StateDict()["5.weight"].ToArray<float>();
        var ex = Assert.Throws<ShapeException>(() => other.LoadStateDict(a.StateDict()));
        Assert.Contains("5.weight", ex.Message);
        Assert.Contains("[3, 64] x [5, 64]", ex.Message);
        Assert.Equal(before, other.StateDict()["5.weight"].ToArray<float>());              // nothing copied
        var partial = a.StateDict();
        partial.Remove("0.bias");
        partial["extra"] = Tensor.Zeros(1);
        var strict = Assert.Throws<EngineException>(() => b.LoadStateDict(partial));
        Assert.Contains("missing 0.bias", strict.Message);
        Assert.Contains("unexpected extra", strict.Message);
        partial.Remove("extra");
        b.LoadStateDict(partial, strict: false);
    }

    [Fact]
    public void Summary_lists_output_shapes_and_parameter_counts()
    {
        var net = Net();
        net.GetModule("0").Freeze();
        string s = net.Summary(2, 1, 8, 8);
        Assert.Contains("[2, 4, 8, 8]", s);
        Assert.Contains("[2, 4, 4, 4]", s);
        Assert.Contains("[2, 3]", s);
        Assert.Contains("Linear", s);
        Assert.Contains("parameters: 243 (203 trainable, 40 frozen)", s);
        Assert.True(net.IsTraining);                                                          // restored after the probe
    }

    [Fact]
    public void Bad_names_and_devices_are_rejected()
    {
        Assert.Throws<EngineException>(() => new BadModule());
        var ex = Assert.Throws<DeviceException>(() => Net().To(new Device(DeviceKind.Cuda)));
        Assert.Contains("cuda:0", ex.Message);
    }

    private sealed class BadModule : Module
    {
        public BadModule() => RegisterParameter("a.b", Tensor.Zeros(1));
        public override Variable Forward(Variable x) => x;
    }
}
