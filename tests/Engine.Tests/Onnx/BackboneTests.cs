using Engine.Layers;
using Engine.Onnx;
using Engine.Onnx.Proto;
using Engine.Training;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Engine.Tests;

/// <summary>
/// Backbones from ONNX classifiers: the cut before the classifier (found or named), stages, a new
/// head, and the fine-tuned network exported back to ONNX and run by ONNX Runtime.
/// </summary>
public sealed class BackboneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-backbone-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small classifier (conv/bn/relu, pool, conv/bn/relu, global pool, flatten, linear) written as ONNX.</summary>
    private (Sequential Model, string Path) SmallClassifier(int classes = 5)
    {
        var g = new Generator(11);
        var bn1 = new BatchNorm2d(8);
        var bn2 = new BatchNorm2d(16);
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, generator: g), bn1, new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, stride: 2, padding: 1, generator: g), bn2, new ReLU(),
            new GlobalAvgPool2d(), new Flatten(), new Linear(16, classes, generator: g));
        foreach (var bn in new[] { bn1, bn2 })
        {
            bn.RunningMean.CopyFrom(Tensor.Rand([bn.NumFeatures], -0.3, 0.3, generator: g));
            bn.RunningVar.CopyFrom(Tensor.Rand([bn.NumFeatures], 0.5, 1.5, generator: g));
        }
        model.Eval();
        string path = System.IO.Path.Combine(_dir, "small.onnx");
        OnnxExport.Save(model, [3, 16, 16], path);
        return (model, path);
    }

    [Fact]
    public void The_classifier_is_found_and_cut_off_and_the_backbone_gives_the_features()
    {
        using var scope = Tensor.Scope();
        var (model, path) = SmallClassifier();
        var backbone = OnnxModel.LoadBackbone(path);
        Assert.NotNull(backbone.Cut);
        Assert.Contains("cut before the classifier Gemm", backbone.Cut);
        Assert.Contains("2 node(s) after it dropped", backbone.Cut);                 // Flatten and Gemm
        Assert.Equal(8, backbone.Parameters().Count());                              // two convs (w, b) and two batch norms (γ, β)
        backbone.Eval();
        var x = new Variable(Tensor.RandN([2, 3, 16, 16], 0, 1, generator: new Generator(2)));
        using var noGrad = GradMode.NoGrad();
        var features = backbone.Forward(x).Data;
        Assert.Equal(new[] { 2, 16, 1, 1 }, features.Shape.ToArray());
        var expected = x;
        for (int i = 0; i < 8; i++) expected = model[i].Call(expected);            // up to the global pool
        Assert.Equal(expected.Data.ToArray<float>(), features.ToArray<float>(), new Tolerance(1e-5f));
        // the stages: the 16×16 convolution and the 4×4 one, each with its batch norm
        backbone.ExampleInputShape = [1, 3, 16, 16];
        var stages = backbone.Stages();
        Assert.Equal(2, stages.Count);
        Assert.Equal([8 * 3 * 9, 8, 8, 8], stages[0].Select(p => (int)p.Numel));
        Assert.Equal([16 * 8 * 9, 16, 16, 16], stages[1].Select(p => (int)p.Numel));
    }

    [Fact]
    public void A_cut_can_be_named_and_a_wrong_name_lists_the_last_nodes()
    {
        var (_, path) = SmallClassifier();
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        string relu = proto.Graph.Node.Last(n => n.OpType == "Relu").Name;
        var backbone = OnnxModel.LoadBackbone(path, relu);
        Assert.Contains($"cut at '{relu}'", backbone.Cut);
        using (Tensor.Scope())
        using (GradMode.NoGrad())
        {
            backbone.Eval();
            Assert.Equal(new[] { 1, 16, 4, 4 }, backbone.Forward(new Variable(Tensor.Zeros(1, 3, 16, 16))).Shape.ToArray());
        }
        var e = Assert.Throws<OnnxException>(() => OnnxModel.LoadBackbone(path, "fc7"));
        Assert.StartsWith($"{path}: cut 'fc7': no node or tensor of that name; the last nodes are", e.Message);
        Assert.Contains("Gemm", e.Message);
    }

    [Fact]
    public void Ops_the_importer_lacks_after_the_cut_do_not_stop_the_backbone()
    {
        var (_, path) = SmallClassifier();
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        // a head the importer cannot run: Gemm → a TopK of another domain (indices as the output)
        var k = new TensorProto { Name = "k", DataType = (int)TensorProto.Types.DataType.Int64 };
        k.Dims.Add(1);
        k.Int64Data.Add(1);
        proto.Graph.Initializer.Add(k);
        var topk = new NodeProto { OpType = "TopK", Domain = "com.example", Name = "top" };
        topk.Input.AddRange([proto.Graph.Output[0].Name, "k"]);
        topk.Output.AddRange(["values", "indices"]);
        proto.Graph.Node.Add(topk);
        proto.Graph.Output.Clear();
        proto.Graph.Output.Add(new ValueInfoProto { Name = "values" });
        string withTopK = System.IO.Path.Combine(_dir, "topk.onnx");
        File.WriteAllBytes(withTopK, proto.ToByteArray());
        Assert.Contains("TopK 'top': ops of domain 'com.example' are not supported", Assert.Throws<OnnxException>(() => OnnxModel.Load(withTopK)).Message);
        var backbone = OnnxModel.LoadBackbone(withTopK);
        Assert.Contains("3 node(s) after it dropped", backbone.Cut);
    }

    /// <summary>Finding the features in graphs of other shapes: MatMul + Add, SqueezeNet's 1×1 conv head, and a graph without a classifier.</summary>
    [Fact]
    public void Features_are_found_before_matmul_heads_and_pointwise_conv_heads_but_not_in_feature_extractors()
    {
        GraphProto Graph(params (string Op, string[] In, string Out)[] nodes)
        {
            var g = new GraphProto();
            foreach (var (op, inputs, output) in nodes)
            {
                var n = new NodeProto { OpType = op, Name = output };
                n.Input.AddRange(inputs);
                n.Output.Add(output);
                if (op == "Conv") n.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1 } });
                g.Node.Add(n);
            }
            g.Initializer.Add(new TensorProto { Name = "W" });
            g.Initializer.Add(new TensorProto { Name = "b" });
            g.Output.Add(new ValueInfoProto { Name = nodes[^1].Out });
            return g;
        }
        var matmul = Graph(("GlobalAveragePool", ["x"], "pool"), ("Reshape", ["pool", "shape"], "flat"), ("MatMul", ["flat", "W"], "mm"), ("Add", ["mm", "b"], "logits"), ("Softmax", ["logits"], "prob"));
        Assert.Equal("pool", OnnxBackbone.FindFeatures(matmul).Features);
        var squeeze = Graph(("Relu", ["x"], "r9"), ("Conv", ["r9", "W", "b"], "conv10"), ("Relu", ["conv10"], "r10"), ("GlobalAveragePool", ["r10"], "pool"), ("Flatten", ["pool"], "out"));
        Assert.Equal(("r9", "Conv"), (OnnxBackbone.FindFeatures(squeeze).Features, OnnxBackbone.FindFeatures(squeeze).Classifier!.OpType));
        var features = Graph(("Conv", ["x", "W"], "c"), ("BatchNormalization", ["c", "b"], "bn"), ("Relu", ["bn"], "r"), ("GlobalAveragePool", ["r"], "pool"));
        Assert.Equal(("pool", null), (OnnxBackbone.FindFeatures(features).Features, OnnxBackbone.FindFeatures(features).Classifier));
        // the pretrained ResNet18 ends at its average pool: kept whole
        Assert.Null(OnnxModel.LoadBackbone(PretrainedModels.ResNet18Path).Cut);
    }

    [Fact]
    public void The_pretrained_resnet18_has_a_stem_and_four_stages()
    {
        var resnet = OnnxModel.LoadBackbone(PretrainedModels.ResNet18Path);
        resnet.ExampleInputShape = [1, 3, 64, 64];
        var stages = resnet.Stages();
        Assert.Equal(5, stages.Count);
        Assert.Equal(resnet.Parameters().Count(), stages.Sum(s => s.Count));
        // the last stage as the previous definition found it (the nodes at the smallest map a convolution makes)
        Assert.Equal(13_114_368, stages[^1].Sum(p => p.Numel));
        Assert.Same(stages[^1], resnet.LastStageParameters());
    }

    /// <summary>The fine-tuned network (an imported opset-8 graph and a new head) written as ONNX: ONNX Runtime and our importer compute what the network does.</summary>
    [Fact]
    public void A_fine_tuned_resnet18_exports_and_onnx_runtime_matches_it()
    {
        using var scope = Tensor.Scope();
        var backbone = OnnxModel.LoadBackbone(PretrainedModels.ResNet18Path);
        var net = FineTuning.Classifier(backbone, [3, 64, 64], classes: 4, dropout: 0.2, generator: new Generator(3));
        // weights that differ from the file's: the export must carry the current values
        using (GradMode.NoGrad())
            foreach (var p in backbone.LastStageParameters()) p.Data.MulInPlace(1.01);
        net.Eval();
        string path = System.IO.Path.Combine(_dir, "finetuned.onnx");
        OnnxExport.Save(net, [3, 64, 64], path);
        var x = Tensor.Rand([2, 3, 64, 64], -120, 140, generator: new Generator(4));
        float[] ours;
        using (GradMode.NoGrad()) ours = net.Call(new Variable(x)).Data.ToArray<float>();
        Assert.Equal(8, ours.Length);

        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(13, proto.OpsetImport.Single().Version);
        Assert.DoesNotContain(proto.Graph.Node.SelectMany(n => n.Attribute), a => a.Name == "spatial");
        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), [2, 3, 64, 64]))]);
        var theirs = results.First().AsEnumerable<float>().ToArray();
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-4 * (1 + Math.Abs(theirs[i])), $"element {i}: ours {ours[i]}, onnxruntime {theirs[i]}");

        var back = OnnxModel.Load(path);
        back.Eval();
        using (GradMode.NoGrad())
            Assert.Equal(ours, back.Forward(new Variable(x)).Data.ToArray<float>(), new Tolerance(1e-4f));
    }

    /// <summary>Nodes of opsets before 13 whose form changed (Clip's bounds, Softmax's 2-D coercion, Dropout) are rewritten on export.</summary>
    [Fact]
    public void Older_opset_nodes_are_rewritten_in_their_opset_13_form()
    {
        var graph = new GraphProto { Name = "old" };
        NodeProto Node(string op, string input, string output, params AttributeProto[] attributes)
        {
            var n = new NodeProto { OpType = op, Name = output };
            n.Input.Add(input);
            n.Output.Add(output);
            n.Attribute.AddRange(attributes);
            return n;
        }
        graph.Node.Add(Node("Clip", "x", "clipped", new AttributeProto { Name = "min", Type = AttributeProto.Types.AttributeType.Float, F = -0.5f },
            new AttributeProto { Name = "max", Type = AttributeProto.Types.AttributeType.Float, F = 0.7f }));
        graph.Node.Add(Node("Dropout", "clipped", "dropped", new AttributeProto { Name = "ratio", Type = AttributeProto.Types.AttributeType.Float, F = 0.3f }));
        graph.Node.Add(Node("Softmax", "dropped", "y", new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var model = new ModelProto { IrVersion = 4, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 8 });
        string oldPath = System.IO.Path.Combine(_dir, "opset8.onnx");
        File.WriteAllBytes(oldPath, model.ToByteArray());

        using var scope = Tensor.Scope();
        var imported = OnnxModel.Load(oldPath);
        imported.Eval();
        var x = Tensor.RandN([2, 3, 2, 2], 0, 1, generator: new Generator(8));
        float[] ours;
        using (GradMode.NoGrad()) ours = imported.Forward(new Variable(x)).Data.ToArray<float>();
        string path = System.IO.Path.Combine(_dir, "opset13.onnx");
        OnnxExport.Save(new Sequential(imported), [3, 2, 2], path);
        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), [2, 3, 2, 2]))]);
        Assert.Equal(ours, results.First().AsEnumerable<float>().ToArray(), new Tolerance(1e-5f));
    }

    private sealed class Tolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol * (1 + Math.Abs(b));
        public int GetHashCode(float v) => 0;
    }
}
