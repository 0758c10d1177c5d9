using Engine.Layers;
using Engine.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Engine.Tests;

/// <summary>Module → ONNX: the file re-imports to the same outputs and ONNX Runtime computes them too.</summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Models() => ["lenet", "conv-bn-pools", "resnet-small"];

    private static (Module Model, int[] Input) Build(string name)
    {
        var g = new Generator(5);
        if (name == "lenet") return (Engine.Layers.Models.LeNet(generator: g), [1, 28, 28]);
        if (name == "resnet-small")
        {
            var net = Engine.Layers.Models.ResNetSmall(generator: g);
            foreach (var b in net.NamedModules().Select(m => m.Value).OfType<BatchNorm>())
            {
                b.RunningMean.CopyFrom(Tensor.Rand([b.NumFeatures], -0.3, 0.3, generator: g));
                b.RunningVar.CopyFrom(Tensor.Rand([b.NumFeatures], 0.5, 1.5, generator: g));
            }
            return (net, [1, 16, 16]);
        }
        var bn = new BatchNorm2d(6);
        var m = new Sequential(
            new Conv2d(3, 6, 3, stride: 2, padding: new Padding2d(1, 0, 0, 1), generator: g), bn, new LeakyReLU(0.1),
            new MaxPool2d(2, stride: 1, padding: 1), new AvgPool2d(2, countIncludePad: false), new Conv2d(6, 4, 1, generator: g),
            new Sigmoid(), new GlobalAvgPool2d(), new Flatten(), new Dropout(0.3), new Linear(4, 3, generator: g), new Tanh(), new Softmax(1));
        // give the batch norm running statistics that are not the identity
        bn.RunningMean.CopyFrom(Tensor.Rand([6], -0.5, 0.5, generator: g));
        bn.RunningVar.CopyFrom(Tensor.Rand([6], 0.5, 2, generator: g));
        return (m, [3, 11, 9]);
    }

    [Theory, MemberData(nameof(Models))]
    public void Exported_model_reimports_and_runs_in_onnx_runtime_with_the_same_outputs(string name)
    {
        using var scope = Tensor.Scope();
        var (model, input) = Build(name);
        model.Eval();
        string path = Path.Combine(_dir, name + ".onnx");
        OnnxExport.Save(model, input, path);
        var x = Tensor.RandN([2, .. input], 0, 1, generator: new Generator(9));
        float[] ours;
        using (GradMode.NoGrad()) ours = model.Call(new Variable(x)).Data.Reshape(-1).ToArray<float>();

        var back = OnnxModel.Load(path);
        back.Eval();
        float[] reimported;
        using (GradMode.NoGrad()) reimported = back.Forward(new Variable(x)).Data.Reshape(-1).ToArray<float>();
        Assert.Equal(ours.Length, reimported.Length);
        for (int i = 0; i < ours.Length; i++) Assert.Equal(ours[i], reimported[i], 5);

        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), [2, .. input]))]);
        var theirs = results.First().AsEnumerable<float>().ToArray();
        Assert.Equal(ours.Length, theirs.Length);
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-4 * (1 + Math.Abs(theirs[i])), $"{name}: element {i}: ours {ours[i]}, onnxruntime {theirs[i]}");
    }

    [Fact]
    public void A_layer_without_a_mapping_is_named_and_nothing_is_written()
    {
        var model = new Sequential(new Linear(4, 4), new LayerNorm([4]));
        string path = Path.Combine(_dir, "layernorm.onnx");
        var ex = Assert.Throws<OnnxException>(() => OnnxExport.Save(model, [4], path));
        Assert.Contains("'1' (LayerNorm)", ex.Message);
        Assert.False(File.Exists(path));
    }
}

/// <summary>In inference a Conv followed by BatchNormalization runs as one folded Conv; values and gradients are unchanged.</summary>
public sealed class OnnxBatchNormFoldingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-fold-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Folded_conv_batchnorm_matches_the_two_ops_in_value_and_gradient()
    {
        using var scope = Tensor.Scope();
        var g = new Generator(3);
        var conv = new Conv2d(2, 3, 3, padding: 1, generator: g);
        var bn = new BatchNorm2d(3);
        bn.RunningMean.CopyFrom(Tensor.Rand([3], -0.5, 0.5, generator: g));
        bn.RunningVar.CopyFrom(Tensor.Rand([3], 0.5, 2, generator: g));
        bn.Weight!.Data.CopyFrom(Tensor.Rand([3], 0.5, 1.5, generator: g));
        bn.Bias!.Data.CopyFrom(Tensor.Rand([3], -0.5, 0.5, generator: g));
        var reference = new Sequential(conv, bn);
        reference.Eval();
        string path = Path.Combine(_dir, "convbn.onnx");
        OnnxExport.Save(reference, [2, 5, 5], path);
        var x = Tensor.RandN([2, 2, 5, 5], 0, 1, generator: g);

        var imported = OnnxModel.Load(path);
        imported.Freeze();                                    // frozen: batch norm in inference, so the fold applies
        foreach (var p in imported.Parameters()) p.SetRequiresGrad(true);
        var y = imported.Forward(new Variable(x));
        y.Square().Sum().Backward();

        var yRef = reference.Call(new Variable(x));
        yRef.Square().Sum().Backward();
        Assert.Equal(yRef.Data.ToArray<float>(), y.Data.ToArray<float>(), new Tolerance(1e-5f));
        var ours = imported.Parameters().ToList();
        var theirs = new[] { conv.Weight, conv.Bias!, bn.Weight!, bn.Bias! };
        Assert.Equal(4, ours.Count);
        for (int i = 0; i < 4; i++)
            Assert.Equal(theirs[i].Grad!.Data.ToArray<float>(), ours[i].Grad!.Data.ToArray<float>(), new Tolerance(1e-4f));
    }

    /// <summary>
    /// Without gradients the folded weights are kept between calls; writing any of their sources
    /// (a parameter updated in place, a loaded state dict) must make the next call fold again.
    /// </summary>
    [Fact]
    public void Cached_folded_weights_follow_changes_to_their_sources()
    {
        using var scope = Tensor.Scope();
        var g = new Generator(5);
        var conv = new Conv2d(2, 3, 3, padding: 1, generator: g);
        var bn = new BatchNorm2d(3);
        bn.RunningMean.CopyFrom(Tensor.Rand([3], -0.5, 0.5, generator: g));
        bn.RunningVar.CopyFrom(Tensor.Rand([3], 0.5, 2, generator: g));
        var reference = new Sequential(conv, bn);
        reference.Eval();
        string path = Path.Combine(_dir, "convbn-cache.onnx");
        OnnxExport.Save(reference, [2, 5, 5], path);
        var x = new Variable(Tensor.RandN([2, 2, 5, 5], 0, 1, generator: g));
        var imported = OnnxModel.Load(path);
        imported.Eval();

        float[] Ours()
        {
            using (GradMode.NoGrad()) return imported.Forward(x).Data.ToArray<float>();
        }
        float[] Reference()
        {
            using (GradMode.NoGrad()) return reference.Call(x).Data.ToArray<float>();
        }

        var first = Ours();
        Assert.Equal(Reference(), first, new Tolerance(1e-5f));
        Assert.Equal(first, Ours());                                   // the cached fold gives the same numbers

        // each source in turn, written in place on both sides: conv weight and bias, BN scale and shift,
        // running mean and variance (kept positive)
        var ours = imported.Parameters().Select(p => p.Data).Concat(imported.NamedBuffers().Select(b => b.Value)).ToList();
        Tensor[] theirs = [conv.Weight.Data, conv.Bias!.Data, bn.Weight!.Data, bn.Bias!.Data, bn.RunningMean, bn.RunningVar];
        Assert.Equal(theirs.Length, ours.Count);
        for (int i = 0; i < theirs.Length; i++)
        {
            Assert.Equal(theirs[i].Shape.ToArray(), ours[i].Shape.ToArray());
            using var delta = Tensor.Rand(ours[i].Shape.ToArray(), i == 5 ? 0 : -0.3, 0.3, generator: g);
            ours[i].AddInPlace(delta, 1);
            theirs[i].AddInPlace(delta, 1);
            var now = Ours();
            Assert.NotEqual(first, now);
            Assert.Equal(Reference(), now, new Tolerance(1e-5f));
            first = now;
        }

        // a state dict loaded over the model
        var state = imported.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        using var change = Tensor.Rand(conv.Weight.Shape.ToArray(), -0.3, 0.3, generator: g);
        state.First(kv => kv.Value.Rank == 4).Value.AddInPlace(change, 1);
        conv.Weight.Data.AddInPlace(change, 1);
        imported.LoadStateDict(state);
        Assert.Equal(Reference(), Ours(), new Tolerance(1e-5f));
    }

    private sealed class Tolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol * (1 + Math.Abs(b));
        public int GetHashCode(float v) => 0;
    }
}
