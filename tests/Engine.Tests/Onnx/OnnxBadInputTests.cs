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
        var m = Model(Node("Relu", "ok", ["x"], ["a"]), Node("Resize", "up1", ["a"], ["b"]), Node("Erf", "e", ["b"], ["c"]),
                      Node("Resize", "up2", ["c"], ["d"]));
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(Write("unsupported.onnx", m.ToByteArray())));
        Assert.Contains("3 node(s)", ex.Message);
        Assert.Contains("Resize (up1)", ex.Message);
        Assert.Contains("Erf (e)", ex.Message);
        Assert.Contains("Resize (up2)", ex.Message);
        Assert.DoesNotContain("Relu (ok)", ex.Message);
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
}
