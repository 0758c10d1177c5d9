using Engine.Onnx;
using Engine.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using AttrType = Engine.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Engine.Tests;

/// <summary>
/// The com.microsoft ops ONNX Runtime's optimizer writes (FusedMatMul, BiasGelu, SkipLayerNormalization,
/// FastGelu, QuickGelu, Gelu): a chain of them computes what ONNX Runtime computes, and trains.
/// </summary>
public sealed class OnnxContribTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onnx-contrib-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Domain = "com.microsoft", Name = outputs[0] };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    private static ValueInfoProto Input(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    [Fact]
    public void A_chain_of_contrib_ops_matches_onnx_runtime_and_trains()
    {
        var rng = new Generator(37);
        Tensor R(params int[] shape) => Tensor.Rand(shape, -1, 1, DType.Float32, rng);
        var weights = new Dictionary<string, Tensor>
        {
            ["w"] = R(6, 4), ["b1"] = R(6), ["gamma"] = R(6), ["beta"] = R(6), ["b2"] = R(6), ["b3"] = R(6),
        };
        var m = new ModelProto { IrVersion = 8, ProducerName = "engine-tests", Graph = new GraphProto { Name = "g" } };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        m.Graph.Node.AddRange(
        [
            Node("FusedMatMul", ["x", "w"], ["mm"], new AttributeProto { Name = "alpha", Type = AttrType.Float, F = 0.5f }, new AttributeProto { Name = "transB", Type = AttrType.Int, I = 1 }),
            Node("BiasGelu", ["mm", "b1"], ["g1"]),
            Node("SkipLayerNormalization", ["g1", "skip", "gamma", "beta", "b2"], ["ln"], new AttributeProto { Name = "epsilon", Type = AttrType.Float, F = 1e-5f }),
            Node("FastGelu", ["ln", "b3"], ["g2"]),
            Node("QuickGelu", ["g2"], ["g3"], new AttributeProto { Name = "alpha", Type = AttrType.Float, F = 1.5f }),
            Node("Gelu", ["g3"], ["y"]),
        ]);
        foreach (var (name, t) in weights) m.Graph.Initializer.Add(OnnxTensors.FromTensor(t, name));
        m.Graph.Input.Add(Input("x", 2, 3, 4));
        m.Graph.Input.Add(Input("skip", 2, 3, 6));
        m.Graph.Output.Add(Input("y", 2, 3, 6));
        string path = Path.Combine(_dir, "contrib.onnx");
        File.WriteAllBytes(path, m.ToByteArray());

        var x = R(2, 3, 4);
        var skip = R(2, 3, 6);
        var model = OnnxModel.Load(path);
        float[] ours;
        using (GradMode.NoGrad()) ours = model.Run(new Variable(x), new Variable(skip))[0].Data.Reshape(-1).ToArray<float>();
        using var session = new InferenceSession(path);
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.ToArray<float>(), [2, 3, 4])),
            NamedOnnxValue.CreateFromTensor("skip", new DenseTensor<float>(skip.ToArray<float>(), [2, 3, 6])),
        ]);
        float[] theirs = [.. results.First().AsEnumerable<float>()];
        Assert.Equal(theirs.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-4, $"element {i}: ours {ours[i]}, onnxruntime {theirs[i]}");
        // the weights are parameters and the gradients reach them
        var y = model.Run(new Variable(x), new Variable(skip))[0];
        y.Sum().Backward();
        Assert.True(model.ParameterOf("w").Grad!.Data.Abs().Sum().ToArray<float>()[0] > 0);
        // a contrib op we lack names itself and the ones we have
        var other = ModelProto.Parser.ParseFrom(m.ToByteArray());
        other.Graph.Node[0].OpType = "Attention";
        string otherPath = Path.Combine(_dir, "attention.onnx");
        File.WriteAllBytes(otherPath, other.ToByteArray());
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(otherPath));
        Assert.Contains("com.microsoft.Attention is not supported", ex.Message);
        Assert.Contains("SkipLayerNormalization", ex.Message);
    }
}
