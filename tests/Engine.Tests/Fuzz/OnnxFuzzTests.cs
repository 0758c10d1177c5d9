using Engine.Layers;
using Engine.Onnx;
using Engine.Onnx.Proto;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Engine.Tests;

/// <summary>ONNX models fuzzed from seeds (bytes and structure), loaded and run: each loads and runs or is refused with a typed exception.</summary>
public sealed class OnnxFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-onnx-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Seed models: LeNet and a conv/batch-norm/pooling stack exported here, and a graph of the shape ops written node by node.</summary>
    private byte[][] OnnxSeeds()
    {
        var g = new Generator(3);
        var lenet = Path.Combine(_dir, "lenet.onnx");
        var small = Path.Combine(_dir, "small.onnx");
        var net = Models.LeNet(generator: g);
        net.Eval();
        OnnxExport.Save(net, [1, 28, 28], lenet);
        var stack = new Sequential(new Conv2d(3, 4, 3, stride: 2, padding: 1, generator: g), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new AvgPool2d(2), new GlobalAvgPool2d(), new Flatten(), new Linear(4, 3, generator: g), new Softmax(1));
        stack.Eval();
        OnnxExport.Save(stack, [3, 16, 16], small);
        return [File.ReadAllBytes(lenet), File.ReadAllBytes(small), ShapeOps().ToByteArray()];
    }

    /// <summary>Reshape (shape initializer), Transpose, Concat, Clip, Constant, Gemm and LogSoftmax on a [2, 3, 4] input.</summary>
    private static ModelProto ShapeOps()
    {
        var graph = new GraphProto { Name = "shapes" };
        TensorProto Ints(string name, params long[] v)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(v.Length);
            t.Int64Data.AddRange(v);
            return t;
        }
        TensorProto Floats(string name, int[] dims, float value)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.AddRange(dims.Select(d => (long)d));
            t.FloatData.AddRange(Enumerable.Repeat(value, dims.Aggregate(1, (a, b) => a * b)));
            return t;
        }
        void Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
        {
            var n = new NodeProto { OpType = op, Name = output };
            n.Input.AddRange(inputs);
            n.Output.Add(output);
            n.Attribute.AddRange(attributes);
            graph.Node.Add(n);
        }
        AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
        AttributeProto IntList(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
        graph.Initializer.Add(Ints("shape", 2, 12));
        graph.Initializer.Add(Floats("w", [24, 5], 0.1f));
        graph.Initializer.Add(Floats("b", [5], 0.2f));
        Node("Transpose", ["x"], "t", IntList("perm", 0, 2, 1));
        Node("Reshape", ["t", "shape"], "r");
        Node("Constant", [], "c", new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Floats("cv", [2, 12], 0.5f) });
        Node("Concat", ["r", "c"], "cat", Int("axis", 1));
        Node("Clip", ["cat"], "clip");
        Node("Gemm", ["clip", "w", "b"], "g", Int("transB", 0));
        Node("LogSoftmax", ["g"], "y", Int("axis", 1));
        var input = new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() } } };
        foreach (var d in new[] { 2, 3, 4 }) input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        graph.Input.Add(input);
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    /// <summary>An edit of the model's structure: an attribute set to an extreme value or repeated, inputs or outputs dropped, a Constant shadowing a value, an initializer's dims changed, nodes reordered.</summary>
    private static byte[] EditStructure(byte[] seed, Random rng)
    {
        var m = ModelProto.Parser.ParseFrom(seed);
        var nodes = m.Graph.Node;
        var node = nodes[rng.Next(nodes.Count)];
        long[] extreme = [0, -1, -7, 40_000, 1L << 31, 1L << 40, long.MaxValue];
        switch (rng.Next(8))
        {
            case 0 when node.Attribute.Count > 0:
            {
                var a = node.Attribute[rng.Next(node.Attribute.Count)];
                a.I = extreme[rng.Next(extreme.Length)];
                for (int k = 0; k < a.Ints.Count; k++) if (rng.Next(2) == 0) a.Ints[k] = extreme[rng.Next(extreme.Length)];
                if (rng.Next(3) == 0) a.Ints.Add(extreme[rng.Next(extreme.Length)]);
                break;
            }
            case 1 when node.Attribute.Count > 0:
                node.Attribute.Add(node.Attribute[rng.Next(node.Attribute.Count)].Clone());
                break;
            case 2 when node.Input.Count > 0:
                if (rng.Next(2) == 0) node.Input.RemoveAt(rng.Next(node.Input.Count)); else node.Input[rng.Next(node.Input.Count)] = "";
                break;
            case 3:
                m.Graph.Output.Clear();
                break;
            case 4:
            {
                var shadow = new NodeProto { OpType = "Constant", Name = "shadow" };
                shadow.Output.Add(node.Output[0]);
                var t = new TensorProto { Name = "v", DataType = 1 };
                t.Dims.Add(1);
                t.FloatData.Add(1);
                shadow.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t });
                nodes.Insert(rng.Next(nodes.Count + 1), shadow);
                break;
            }
            case 5 when m.Graph.Initializer.Count > 0:
            {
                var init = m.Graph.Initializer[rng.Next(m.Graph.Initializer.Count)];
                if (rng.Next(2) == 0) { init.Dims.Clear(); init.Dims.AddRange([998724481, 1119412321, 33, 5]); }
                else if (init.Dims.Count > 0) init.Dims[rng.Next(init.Dims.Count)] = extreme[rng.Next(extreme.Length)];
                break;
            }
            case 6 when nodes.Count > 1:
            {
                int a = rng.Next(nodes.Count), b = rng.Next(nodes.Count);
                (nodes[a], nodes[b]) = (nodes[b], nodes[a]);
                break;
            }
            default:
                node.OpType = new[] { "Reshape", "Concat", "Conv", "MaxPool", "Gemm", "Flatten", "Transpose", "BatchNormalization", "Softmax" }[rng.Next(9)];
                break;
        }
        return m.ToByteArray();
    }

    [Fact]
    public void Onnx_models_loaded_and_run()
    {
        var seeds = OnnxSeeds();
        var r = Fuzzer.Run("onnx", Fuzzer.Cases(2000), 3, (i, rng) => i % 2 == 0 ? Fuzzer.Mutate(seeds[i % 3], rng) : EditStructure(seeds[i % 3], rng), bytes =>
        {
            string path = Write("case.onnx", bytes);
            // the backbone cut reads the graph before the op check: it meets the same files first
            try { OnnxModel.LoadBackbone(path); }
            catch (OnnxException) { }
            var model = OnnxModel.Load(path);
            model.Eval();
            using var scope = Tensor.Scope();
            using var noGrad = GradMode.NoGrad();
            var shape = model.DeclaredInputShapes.Count == 1 && model.DeclaredInputShapes[0].All(d => d is > 0 and < 64)
                ? model.DeclaredInputShapes[0].Select((d, k) => k == 0 ? 2 : (int)d!.Value).ToArray() : [2, 3, 4];
            if (model.Inputs.Count == 1) model.Forward(new Variable(Tensor.Zeros(shape)));
        }, e => e is EngineException);
        output.WriteLine(r.ToString());
        Assert.True(r.Untyped == 0 && r.Hangs == 0 && r.Loaded > 0 && r.Typed > 0, r.ToString());
    }
}
