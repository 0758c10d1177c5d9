using Engine.Onnx;
using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Tests;

/// <summary>Bad model files and unsupported graphs: one OnnxException naming the file or node and the problem.</summary>
public sealed class OnnxBadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    private static ModelProto Model(params NodeProto[] nodes)
    {
        var m = new ModelProto { IrVersion = 7, ProducerName = "engine-tests", Graph = new GraphProto { Name = "g" } };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        m.Graph.Node.AddRange(nodes);
        m.Graph.Input.Add(new ValueInfoProto { Name = "x" });
        m.Graph.Output.Add(new ValueInfoProto { Name = nodes[^1].Output[0] });
        return m;
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string path = Path.Combine(_dir, "nowhere.onnx");
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("no such file", ex.Message);
    }

    [Fact]
    public void Empty_truncated_and_corrupt_files_are_refused()
    {
        Assert.Contains("empty", Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("empty.onnx", []))).Message);
        byte[] good = Model(Node("Relu", "r", ["x"], ["y"])).ToByteArray();
        var truncated = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("cut.onnx", good[..(good.Length - 3)])));
        Assert.Contains("cut.onnx", truncated.Message);
        Assert.Contains("truncated or corrupt", truncated.Message);
        var noise = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("noise.onnx", [0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])));
        Assert.Contains("noise.onnx", noise.Message);
        var text = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("text.onnx", "hello, not a model"u8.ToArray())));
        Assert.Contains("text.onnx", text.Message);
    }

    [Fact]
    public void Every_unsupported_op_is_listed_at_once_with_its_node()
    {
        var m = Model(Node("Relu", "ok", ["x"], ["a"]), Node("StringNormalizer", "u1", ["a"], ["b"]), Node("RegexFullMatch", "e", ["b"], ["c"]),
                      Node("StringNormalizer", "u2", ["c"], ["d"]));
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("unsupported.onnx", m.ToByteArray())));
        Assert.Contains("3 node(s)", ex.Message);
        Assert.Contains("StringNormalizer 'u1': the op is not supported", ex.Message);
        Assert.Contains("RegexFullMatch 'e'", ex.Message);
        Assert.Contains("StringNormalizer 'u2'", ex.Message);
        Assert.DoesNotContain("Relu 'ok'", ex.Message);
        // the list of what is supported is not repeated in each message
        Assert.DoesNotContain("Softmax", ex.Message);
    }

    [Fact]
    public void An_initializer_whose_data_does_not_fill_its_dims_is_named()
    {
        var m = Model(Node("Add", "add", ["x", "w"], ["y"]));
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[10]) };
        w.Dims.Add(2);
        w.Dims.Add(2);
        m.Graph.Initializer.Add(w);
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("short.onnx", m.ToByteArray())));
        Assert.Contains("initializer 'w'", ex.Message);
        Assert.Contains("10 bytes", ex.Message);
        Assert.Contains("16", ex.Message);
    }

    [Fact]
    public void A_small_graph_written_field_by_field_runs_with_typed_and_raw_initializers()
    {
        // y = Gemm(x, W, b) with W in float_data and b in raw_data, then Softmax
        var m = Model(Node("Gemm", "fc", ["x", "W", "b"], ["h"]), Node("Softmax", "sm", ["h"], ["y"]));
        m.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        var W = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float };
        W.Dims.Add(2); W.Dims.Add(3);
        W.FloatData.Add([1, 0, 0, 0, 1, 1]);
        var b = new TensorProto { Name = "b", DataType = (int)TensorProto.Types.DataType.Float };
        b.Dims.Add(2);
        b.RawData = ByteString.CopyFrom([.. BitConverter.GetBytes(0.5f), .. BitConverter.GetBytes(-0.5f)]);
        m.Graph.Initializer.Add(W);
        m.Graph.Initializer.Add(b);
        var model = OnnxModel.Load(Write("gemm.onnx", m.ToByteArray()));
        using var scope = Tensor.Scope();
        var y = model.Forward(new Variable(Tensor.FromArray(new float[,] { { 1, 2, 3 } }))).Data.ToArray<float>();
        double h0 = 1 + 0.5, h1 = 2 + 3 - 0.5, z = Math.Exp(h0) + Math.Exp(h1);
        Assert.Equal(Math.Exp(h0) / z, y[0], 5);
        Assert.Equal(Math.Exp(h1) / z, y[1], 5);
        Assert.Equal(2, model.Parameters().Count());
    }

    private static AttributeProto IntsAttr(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    private static AttributeProto IntAttr(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    private static TensorProto Floats(string name, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(Enumerable.Repeat(0.5f, (int)dims.Aggregate(1L, (a, b) => a * b)));
        return t;
    }

    private static TensorProto Longs(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        return t;
    }

    private static NodeProto With(NodeProto node, params AttributeProto[] attributes)
    {
        node.Attribute.AddRange(attributes);
        return node;
    }

    /// <summary>Loads <paramref name="m"/> and runs it on <paramref name="input"/>; returns the OnnxException either throws.</summary>
    private OnnxException Refused(ModelProto m, int[] input)
    {
        string path = Write("bad.onnx", m.ToByteArray());
        return Assert.Throws<OnnxException>(() =>
        {
            var model = OnnxModel.Load(path);
            model.Eval();
            using var scope = Tensor.Scope();
            using var noGrad = GradMode.NoGrad();
            model.Forward(new Variable(Tensor.Ones(input)));
        });
    }

    [Fact]
    public void Malformed_graphs_are_invalid_at_load_with_every_problem_listed()
    {
        // two attributes of one name; BatchNormalization with 3 of its 5 inputs; a stride of 0; an attribute of 2^40;
        // a Constant assigning a value another node produces; an output nothing produces
        var conv = With(Node("Conv", "conv", ["x", "w"], ["c"]), IntsAttr("strides", 0, 1), IntsAttr("kernel_shape", 3, 3), IntsAttr("kernel_shape", 3, 3));
        var bn = Node("BatchNormalization", "bn", ["c", "w", "w"], ["b"]);
        var flat = With(Node("Flatten", "flat", ["b"], ["f"]), IntAttr("axis", 1L << 40));
        var shadow = Node("Constant", "shadow", [], ["c"]);
        shadow.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Floats("v", 1) });
        var m = Model(conv, bn, flat, shadow);
        m.Graph.Initializer.Add(Floats("w", 2, 1, 3, 3));
        m.Graph.Output.Add(new ValueInfoProto { Name = "nowhere" });
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("malformed.onnx", m.ToByteArray())));
        Assert.Contains("malformed.onnx: invalid model", ex.Message);
        Assert.Contains("two attributes named 'kernel_shape'", ex.Message);
        Assert.Contains("strides [0, 1] must lie in 1 to", ex.Message);
        Assert.Contains("BatchNormalization 'bn' has 3 input(s); BatchNormalization (opset 13) takes 5", ex.Message);
        Assert.Contains("'axis' = 1099511627776 is beyond 32 bits", ex.Message);
        Assert.Contains("node Constant 'shadow' assigns 'c', which is already defined", ex.Message);
        Assert.Contains("graph output 'nowhere' is never produced", ex.Message);
    }

    [Fact]
    public void Nodes_out_of_order_and_a_graph_without_outputs_are_refused()
    {
        var m = Model(Node("Relu", "late", ["a"], ["y"]), Node("Relu", "early", ["x"], ["a"]));
        m.Graph.Output[0].Name = "y";
        Assert.Contains("reads 'a', which no graph input, initializer or earlier node defines",
            Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("order.onnx", m.ToByteArray()))).Message);
        var none = Model(Node("Relu", "r", ["x"], ["y"]));
        none.Graph.Output.Clear();
        Assert.Contains("declares no outputs", Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("none.onnx", none.ToByteArray()))).Message);
    }

    [Theory]
    [InlineData(3_000_000_000L, "holds 3000000000, not a size")]
    [InlineData(0L, "copies dimension 2 (a 0) but the input [2, 3] has rank 2")]
    public void Reshape_targets_beyond_int32_or_copying_a_missing_dimension_name_the_node(long bad, string expected)
    {
        var m = Model(Node("Reshape", "reshape", ["x", "shape"], ["y"]));
        m.Graph.Initializer.Add(Longs("shape", 2, 3, bad));
        var ex = Refused(m, [2, 3]);
        Assert.Contains("Reshape 'reshape'", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Initializer_dims_whose_product_overflows_are_refused()
    {
        var m = Model(Node("Add", "add", ["x", "w"], ["y"]));
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[20]) };
        w.Dims.AddRange([998724481, 1119412321, 33, 5]);
        m.Graph.Initializer.Add(w);
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("huge.onnx", m.ToByteArray())));
        Assert.Contains("initializer 'w'", ex.Message);
        Assert.Contains("more elements than", ex.Message);
    }

    [Fact]
    public void Pads_that_need_more_memory_than_the_device_has_are_refused_at_the_node_without_allocating()
    {
        // pads of 40,000 on each side: the padded 80,000 x 80,000 planes would take terabytes
        var conv = With(Node("Conv", "conv", ["x", "w"], ["y"]), IntsAttr("pads", 40_000, 40_000, 40_000, 40_000));
        var m = Model(conv);
        m.Graph.Initializer.Add(Floats("w", 64, 3, 3, 3));
        long before = GC.GetTotalAllocatedBytes();
        var ex = Refused(m, [1, 3, 8, 8]);
        Assert.Contains("Conv 'conv'", ex.Message);
        Assert.Contains("out of memory", ex.Message);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 100 << 20, "refusing allocated more than 100 MB of managed memory");
    }

    [Fact]
    public void Pads_above_the_documented_limit_and_an_unknown_auto_pad_are_invalid()
    {
        var conv = With(Node("Conv", "conv", ["x", "w"], ["y"]), IntsAttr("pads", 0, 0, 1L << 30, 0),
            new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("SOMETIMES") });
        var m = Model(conv);
        m.Graph.Initializer.Add(Floats("w", 1, 3, 3, 3));
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("pads.onnx", m.ToByteArray())));
        Assert.Contains($"pads [0, 0, {1L << 30}, 0] must lie in 0 to {OnnxChecks.MaxExtent}", ex.Message);
        Assert.Contains("auto_pad 'SOMETIMES' is none of", ex.Message);
    }
}
