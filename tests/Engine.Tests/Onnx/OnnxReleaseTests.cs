using Engine.Onnx;
using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Tests;

/// <summary>
/// Inference releases each intermediate after the node that reads it last: the same outputs as keeping them all,
/// outputs, inputs, parameters and tensors an op passed through untouched survive, and nothing is released while a
/// gradient is recorded.
/// </summary>
public sealed class OnnxReleaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-onnx-release-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { OpType = op, Name = outputs[0] };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    /// <summary>
    /// x → Relu a → Identity b (the same tensor as a) → Add(a, b) c → Mul(c, w) d → Split into e, f (f never read) →
    /// Sigmoid(e) g → Neg h; outputs h and a (a is read by later nodes and is an output too).
    /// </summary>
    private OnnxModel Build()
    {
        var m = new ModelProto { IrVersion = 7, ProducerName = "engine-tests", Graph = new GraphProto { Name = "g" } };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        m.Graph.Node.AddRange(
        [
            Node("Relu", ["x"], ["a"]), Node("Identity", ["a"], ["b"]), Node("Add", ["a", "b"], ["c"]), Node("Mul", ["c", "w"], ["d"]),
            Node("Split", ["d"], ["e", "f"]), Node("Sigmoid", ["e"], ["g"]), Node("Neg", ["g"], ["h"]),
        ]);
        var w = new TensorProto { Name = "w", DataType = 1 };
        w.Dims.AddRange([4, 6]);
        w.FloatData.AddRange(Enumerable.Range(0, 24).Select(i => (float)(0.1 * i - 1)));
        m.Graph.Initializer.Add(w);
        m.Graph.Input.Add(new ValueInfoProto { Name = "x" });
        m.Graph.Output.Add(new ValueInfoProto { Name = "h" });
        m.Graph.Output.Add(new ValueInfoProto { Name = "a" });
        string path = Path.Combine(_dir, "chain.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
        return OnnxModel.Load(path);
    }

    [Fact]
    public void Released_early_or_not_the_outputs_are_the_same_and_alive()
    {
        var model = Build();
        model.Eval();
        using var scope = Tensor.Scope();
        var x = Tensor.RandN([4, 6], 0, 1, DType.Float32, new Generator(5));
        float[][] Run(bool release)
        {
            model.ReleaseIntermediates = release;
            int before = OnnxModel.ReleasedOnThisThread;
            IReadOnlyList<Variable> outputs;
            using (GradMode.NoGrad()) outputs = model.Run(new Variable(x));
            int released = OnnxModel.ReleasedOnThisThread - before;
            // released: c, d, f (never read), e, g; kept: a and b (one tensor, an output), h (an output), x, w
            Assert.Equal(release ? 5 : 0, released);
            return [.. outputs.Select(o => o.Data.ToArray<float>())];
        }
        var kept = Run(false);
        var released = Run(true);
        Assert.Equal(kept.Length, released.Length);
        for (int i = 0; i < kept.Length; i++) Assert.Equal(kept[i], released[i]);
        Assert.Equal(x.ToArray<float>().Select(v => MathF.Max(v, 0)), released[1]);   // a = Relu(x), alive after the call
        Assert.Equal(24, model.ParameterOf("w").Data.ToArray<float>().Length);          // the parameter survives
        Assert.Equal(24, x.ToArray<float>().Length);                                    // and the input
        Assert.Equal(kept[0], Run(true)[0]);                                             // a second call: nothing released twice
    }

    [Fact]
    public void Nothing_is_released_while_a_gradient_is_recorded()
    {
        var model = Build();
        using var scope = Tensor.Scope();
        var x = new Variable(Tensor.RandN([4, 6], 0, 1, DType.Float32, new Generator(6)), requiresGrad: true);
        int before = OnnxModel.ReleasedOnThisThread;
        var outputs = model.Run(x);
        Assert.Equal(before, OnnxModel.ReleasedOnThisThread);
        outputs[0].Sum().Backward();
        Assert.NotNull(x.Grad);
        Assert.Contains(x.Grad!.Data.ToArray<float>(), v => v != 0);
    }

    /// <summary>The pretrained ResNet18, released early and not: the same bits.</summary>
    [Fact]
    public void ResNet18_gives_the_same_bits_with_intermediates_released()
    {
        var model = OnnxModel.Load(PretrainedModels.ResNet18Path);
        model.Eval();
        using var scope = Tensor.Scope();
        var x = Tensor.Rand([2, 3, 64, 64], 0, 255, generator: new Generator(7));
        float[] Run(bool release)
        {
            model.ReleaseIntermediates = release;
            using (GradMode.NoGrad()) return model.Forward(new Variable(x)).Data.ToArray<float>();
        }
        int before = OnnxModel.ReleasedOnThisThread;
        var released = Run(true);
        Assert.True(OnnxModel.ReleasedOnThisThread - before > 10);
        Assert.Equal(Run(false), released);
    }
}
