using Engine.Onnx;
using Engine.Onnx.Proto;
using Google.Protobuf;
using AttrType = Engine.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Engine.Tests;

/// <summary>
/// The importer's semantics beyond ONNX's node tests: opset-dependent forms (legacy broadcast before opset 7),
/// weights in Constant nodes, PyTorch-style shape subgraphs with a free batch, refusals at load, and
/// gradients (float64, finite differences) through graphs of the new ops.
/// </summary>
public sealed class OnnxOpsetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onnx-opset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = outputs[0] };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttrType.Int, I = v };
    private static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttrType.Ints }; a.Ints.AddRange(v); return a; }
    private static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttrType.String, S = ByteString.CopyFromUtf8(v) };
    private static AttributeProto Value(Tensor t) => new() { Name = "value", Type = AttrType.Tensor, T = OnnxTensors.FromTensor(t, "value") };

    private string Save(long opset, string[] inputs, string output, params NodeProto[] nodes)
    {
        var m = new ModelProto { IrVersion = 7, ProducerName = "engine-tests", Graph = new GraphProto { Name = "g" } };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        m.Graph.Node.AddRange(nodes);
        foreach (var i in inputs) m.Graph.Input.Add(new ValueInfoProto { Name = i });
        m.Graph.Output.Add(new ValueInfoProto { Name = output });
        string path = Path.Combine(_dir, $"m{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
        return path;
    }

    private static double[] Values(Variable v) => v.Data.To(DType.Float64).Reshape(-1).ToArray<double>();

    [Fact]
    public void Opset_6_broadcast_aligns_the_second_operand_at_axis()
    {
        // A[3, 3] + B[3] with broadcast=1, axis=0: B[i] is added to row i (down the columns)
        string path = Save(6, ["a", "b"], "y", Node("Add", ["a", "b"], ["y"], Int("broadcast", 1), Int("axis", 0)));
        var model = OnnxModel.Load(path);
        var a = new Variable(Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 1, 2, 2, 2 }).Reshape(3, 3));
        var b = new Variable(Tensor.FromArray(new float[] { 10, 20, 30 }));
        Assert.Equal([10, 10, 10, 21, 21, 21, 32, 32, 32], Values(model.Run(a, b)[0]));
        // at opset 7 the same node is numpy broadcasting: B along the rows
        var numpy = OnnxModel.Load(Save(7, ["a", "b"], "y", Node("Add", ["a", "b"], ["y"])));
        Assert.Equal([10, 20, 30, 11, 21, 31, 12, 22, 32], Values(numpy.Run(a, b)[0]));
        // before opset 7 without broadcast=1 the shapes must agree
        var strict = OnnxModel.Load(Save(6, ["a", "b"], "y", Node("Mul", ["a", "b"], ["y"])));
        var ex = Assert.Throws<OnnxException>(() => strict.Run(a, b));
        Assert.Contains("Mul 'y'", ex.Message);
        Assert.Contains("broadcast=1", ex.Message);
    }

    [Fact]
    public void Weights_in_constant_nodes_are_parameters_and_scalars_stay_fixed()
    {
        var w = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }).Reshape(3, 2);
        string path = Save(13, ["x"], "y",
            Node("Constant", [], ["w"], Value(w)),
            Node("Constant", [], ["half"], Value(Tensor.Scalar(0.5f))),
            Node("MatMul", ["x", "w"], ["xw"]),
            Node("Mul", ["xw", "half"], ["y"]));
        var model = OnnxModel.Load(path);
        var p = Assert.Single(model.Parameters());
        Assert.Equal([3, 2], p.Shape.ToArray());
        var x = new Variable(Tensor.FromArray(new float[] { 1, 1, 1 }).Reshape(1, 3));
        var y = model.Forward(x);
        Assert.Equal([4.5, 6], Values(y));
        y.Sum().Backward();
        Assert.Equal([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], Values(p.Grad!));
        // exported, the trained constant is an initializer with its current value
        p.Data.FillInPlace(1);
        string exported = Path.Combine(_dir, "exported.onnx");
        OnnxExport.Save(model, [3], exported);
        var back = OnnxModel.Load(exported);
        Assert.Equal([1.5, 1.5], Values(back.Forward(x)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void A_pytorch_style_shape_subgraph_runs_at_any_batch(int batch)
    {
        // y = x.reshape(x.shape[0], -1): Shape → Gather(0) → Unsqueeze → Concat([n], [-1]) → Reshape
        string path = Save(13, ["x"], "y",
            Node("Shape", ["x"], ["shape"]),
            Node("Constant", [], ["zero"], Value(Tensor.Scalar(0, DType.Int64))),
            Node("Gather", ["shape", "zero"], ["n"], Int("axis", 0)),
            Node("Constant", [], ["axes"], Value(Tensor.FromArray(new long[] { 0 }))),
            Node("Unsqueeze", ["n", "axes"], ["n1"]),
            Node("Constant", [], ["minus1"], Value(Tensor.FromArray(new long[] { -1 }))),
            Node("Concat", ["n1", "minus1"], ["target"], Int("axis", 0)),
            Node("Reshape", ["x", "target"], ["flat"]),
            // and a ConstantOfShape / Expand / Where / Equal / Cast chain on int64, as exporters write for masks
            Node("Shape", ["flat"], ["fshape"]),
            Node("ConstantOfShape", ["fshape"], ["ones"], new AttributeProto { Name = "value", Type = AttrType.Tensor, T = OnnxTensors.FromTensor(Tensor.FromArray(new long[] { 1 }), "v") }),
            Node("Cast", ["ones"], ["onesf"], Int("to", 1)),
            Node("Mul", ["flat", "onesf"], ["y"]));
        var model = OnnxModel.Load(path);
        var x = Tensor.Arange(0, batch * 2 * 3, 1, DType.Float32).Reshape(batch, 2, 3);
        var y = model.Forward(new Variable(x));
        Assert.Equal([batch, 6], y.Shape.ToArray());
        Assert.Equal(Values(new Variable(x)), Values(y));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    public void Shapes_fixed_by_weights_fold_at_load_and_the_batch_stays_free(int batch)
    {
        // h = x·W [6, 4]; y = h.reshape(-1, 2, h.shape[1] / 2): the 4 comes from W, so the shape chain is computed at load
        var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Save(13, ["x"], "y",
            Node("MatMul", ["x", "w"], ["h"]),
            Node("Shape", ["h"], ["shape"]),
            Node("Constant", [], ["one"], Value(Tensor.Scalar(1, DType.Int64))),
            Node("Gather", ["shape", "one"], ["width"], Int("axis", 0)),
            Node("Constant", [], ["two"], Value(Tensor.Scalar(2, DType.Int64))),
            Node("Div", ["width", "two"], ["half"]),
            Node("Constant", [], ["axes"], Value(Tensor.FromArray(new long[] { 0 }))),
            Node("Unsqueeze", ["half", "axes"], ["half1"]),
            Node("Constant", [], ["lead"], Value(Tensor.FromArray(new long[] { -1, 2 }))),
            Node("Concat", ["lead", "half1"], ["target"], Int("axis", 0)),
            Node("Reshape", ["h", "target"], ["y"]))));
        var w = OnnxTensors.FromTensor(Tensor.Arange(0, 24, 1, DType.Float32).Reshape(6, 4), "w");
        m.Graph.Initializer.Add(w);
        // x declared [N, 6] with N symbolic: only its rank is trusted
        m.Graph.Input[0].Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" }, new TensorShapeProto.Types.Dimension { DimValue = 6 } } } } };
        string path = Path.Combine(_dir, "fold.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
        var model = OnnxModel.Load(path);
        Assert.Equal(2, model.PlanLength);   // MatMul and Reshape; the rest was computed at load
        var x = Tensor.Rand([batch, 6], -1, 1, generator: new Generator((ulong)batch));
        var y = model.Forward(new Variable(x));
        Assert.Equal([batch, 2, 2], y.Shape.ToArray());
        Assert.Equal(Values(new Variable(x.MatMul(Tensor.Arange(0, 24, 1, DType.Float32).Reshape(6, 4)))), Values(y));
        var ex = Assert.Throws<OnnxException>(() => model.Forward(new Variable(Tensor.Zeros(2, 3, 6))));
        Assert.Contains("declares it of rank 2", ex.Message);
    }

    [Fact]
    public void Four_d_convolutions_and_unknown_modes_are_refused_at_load_naming_op_and_opset()
    {
        var w = Tensor.Zeros(1, 1, 2, 2, 2, 2);
        string conv3d = Save(13, ["x"], "y", Node("Constant", [], ["w"], Value(w)), Node("Conv", ["x", "w"], ["y"], Ints("kernel_shape", 2, 2, 2, 2)));
        var ex = Assert.Throws<OnnxException>(() => OnnxModel.Load(conv3d));
        Assert.Contains("Conv 'y': 4-D Conv is not supported (opset 13)", ex.Message);
        // without kernel_shape, the weights' rank says it
        string noKernel = Save(13, ["x"], "y", Node("Constant", [], ["w"], Value(w)), Node("Conv", ["x", "w"], ["y"]));
        Assert.Contains("4-D Conv is not supported", Assert.Throws<OnnxException>(() => OnnxModel.Load(noKernel)).Message);
        string dilated = Save(19, ["x"], "y", Node("AveragePool", ["x"], ["y"], Ints("kernel_shape", 2, 2), Ints("dilations", 2, 2)));
        Assert.Contains("AveragePool with dilations is not supported (opset 19)", Assert.Throws<OnnxException>(() => OnnxModel.Load(dilated)).Message);
        var half = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Save(13, ["x"], "y", Node("Relu", ["x"], ["y"]))));
        half.Graph.Input[0].Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Uint16 } };
        string halfPath = Path.Combine(_dir, "half.onnx");
        File.WriteAllBytes(halfPath, half.ToByteArray());
        Assert.Contains("graph input 'x' of type Uint16 is not supported", Assert.Throws<OnnxException>(() => OnnxModel.Load(halfPath)).Message);
        string pad = Save(13, ["x", "p"], "y", Node("Pad", ["x", "p"], ["y"], Str("mode", "mirror")));
        Assert.Contains("Pad mode 'mirror' is not supported", Assert.Throws<OnnxException>(() => OnnxModel.Load(pad)).Message);
        string cast = Save(13, ["x"], "y", Node("Cast", ["x"], ["y"], Int("to", 2)));
        Assert.Contains("Uint8", Assert.Throws<OnnxException>(() => OnnxModel.Load(cast)).Message);
        string domain = Save(13, ["x"], "y", new NodeProto { OpType = "ConvBatchNormalization", Domain = "engine.fused", Name = "y", Input = { "x" }, Output = { "y" } });
        Assert.Contains("ops of domain 'engine.fused' are not supported", Assert.Throws<OnnxException>(() => OnnxModel.Load(domain)).Message);
    }

    private static GraphProto Body(string name, string[] inputs, string[] outputs, params NodeProto[] nodes)
    {
        var g = new GraphProto { Name = name };
        g.Node.AddRange(nodes);
        foreach (var i in inputs) g.Input.Add(new ValueInfoProto { Name = i });
        foreach (var o in outputs) g.Output.Add(new ValueInfoProto { Name = o });
        return g;
    }

    [Fact]
    public void If_and_Loop_run_their_bodies_on_outer_values_and_pass_gradients()
    {
        // If(sum(x) > 0): then 2·w·x, else −x; the branches read x and w from the graph around them
        var thenBranch = Body("then", [], ["t"], Node("Mul", ["x", "w"], ["xw"]), Node("Add", ["xw", "xw"], ["t"]));
        var elseBranch = Body("else", [], ["e"], Node("Neg", ["x"], ["e"]));
        var ifNode = Node("If", ["positive"], ["y"],
            new AttributeProto { Name = "then_branch", Type = AttrType.Graph, G = thenBranch },
            new AttributeProto { Name = "else_branch", Type = AttrType.Graph, G = elseBranch });
        string path = Save(13, ["x"], "y",
            Node("Constant", [], ["w"], Value(Tensor.FromArray(new float[] { 3, 4 }))),
            Node("ReduceSum", ["x"], ["s"], Int("keepdims", 0)),
            Node("Constant", [], ["zero"], Value(Tensor.Scalar(0f))),
            Node("Greater", ["s", "zero"], ["positive"]),
            ifNode);
        var model = OnnxModel.Load(path);
        var w = Assert.Single(model.Parameters());
        var x = new Variable(Tensor.FromArray(new float[] { 1, 2 }), requiresGrad: true);
        var y = model.Forward(x);
        Assert.Equal([6, 16], Values(y));
        y.Sum().Backward();
        Assert.Equal([6, 8], Values(x.Grad!));
        Assert.Equal([2, 4], Values(w.Grad!));
        Assert.Equal([1, 2], Values(model.Forward(new Variable(Tensor.FromArray(new float[] { -1, -2 })))));

        // Loop 3 times: acc ← acc·x (carried), and each step's acc as a scan output
        var body = Body("body", ["i", "cond_in", "acc"], ["cond_out", "acc_out", "step"],
            Node("Identity", ["cond_in"], ["cond_out"]),
            Node("Mul", ["acc", "x"], ["acc_out"]),
            Node("Identity", ["acc_out"], ["step"]));
        string loop = Save(13, ["x"], "final",
            Node("Constant", [], ["trips"], Value(Tensor.Scalar(3, DType.Int64))),
            Node("Constant", [], ["go"], Value(Tensor.Scalar(1, DType.Bool))),
            Node("Constant", [], ["one"], Value(Tensor.FromArray(new float[] { 1, 1 }))),
            Node("Loop", ["trips", "go", "one"], ["final", "steps"], new AttributeProto { Name = "body", Type = AttrType.Graph, G = body }));
        var looped = OnnxModel.Load(loop);
        var x2 = new Variable(Tensor.FromArray(new float[] { 2, 3 }), requiresGrad: true);
        var outputs = looped.Run(x2);
        Assert.Equal([8, 27], Values(outputs[0]));
        outputs[0].Sum().Backward();
        Assert.Equal([12, 27], Values(x2.Grad!));   // d(x³)/dx = 3x²
        // an op the importer lacks inside a body is refused at load, like one outside
        var bad = Body("bad", [], ["b"], Node("StringNormalizer", ["x"], ["b"]));
        string badPath = Save(13, ["x", "c"], "y", Node("If", ["c"], ["y"],
            new AttributeProto { Name = "then_branch", Type = AttrType.Graph, G = bad }, new AttributeProto { Name = "else_branch", Type = AttrType.Graph, G = bad }));
        Assert.Contains("StringNormalizer 'b': the op is not supported", Assert.Throws<OnnxException>(() => OnnxModel.Load(badPath)).Message);
    }

    [Fact]
    public void External_data_is_read_beside_the_model_and_never_outside_it()
    {
        // y = x·W with W [2, 2] in weights.bin at offset 8
        var w = new float[] { 1, 2, 3, 4 };
        var bytes = new byte[8 + 16];
        Buffer.BlockCopy(w, 0, bytes, 8, 16);
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), bytes);
        TensorProto External(string location, string offset, string? length = null)
        {
            var t = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
            t.Dims.AddRange([2, 2]);
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset });
            if (length is not null) t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length });
            return t;
        }
        string With(TensorProto weights)
        {
            var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Save(13, ["x"], "y", Node("MatMul", ["x", "w"], ["y"]))));
            m.Graph.Initializer.Add(weights);
            string path = Path.Combine(_dir, $"ext{Guid.NewGuid():N}.onnx");
            File.WriteAllBytes(path, m.ToByteArray());
            return path;
        }
        var model = OnnxModel.Load(With(External("weights.bin", "8", "16")));
        Assert.Equal([4, 6], Values(model.Forward(new Variable(Tensor.FromArray(new float[] { 1, 1 }).Reshape(1, 2)))));
        Assert.Contains("leaves the model's folder", Assert.Throws<OnnxException>(() => OnnxModel.Load(With(External("../weights.bin", "8")))).Message);
        Assert.Contains("leaves the model's folder", Assert.Throws<OnnxException>(() => OnnxModel.Load(With(External("/etc/passwd", "0")))).Message);
        Assert.Contains("past the end", Assert.Throws<OnnxException>(() => OnnxModel.Load(With(External("weights.bin", "16")))).Message);
        Assert.Contains("length 8", Assert.Throws<OnnxException>(() => OnnxModel.Load(With(External("weights.bin", "0", "8")))).Message);
        Assert.Contains("does not exist", Assert.Throws<OnnxException>(() => OnnxModel.Load(With(External("missing.bin", "0")))).Message);
        Assert.Contains("not a non-negative integer", Assert.Throws<OnnxException>(() => OnnxModel.Load(With(External("weights.bin", "-8")))).Message);
    }

    [Fact]
    public void External_data_descriptors_of_any_content_load_or_fail_typed()
    {
        // seeded random locations, offsets and lengths: traversal, absolute paths, huge and negative numbers, junk
        File.WriteAllBytes(Path.Combine(_dir, "data.bin"), new byte[64]);
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        string[] locations = ["data.bin", "./data.bin", "sub/../data.bin", "../data.bin", "/etc/hostname", "sub", "", "data.bin\0x", "nope.bin", "sub/../../x"];
        string[] numbers = ["0", "8", "16", "63", "64", "65", "-1", "9223372036854775807", "18446744073709551616", "1e3", " 4", "x", ""];
        var rng = new Random(41);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Save(13, ["x"], "y", Node("MatMul", ["x", "w"], ["y"]))));
        for (int i = 0; i < 400; i++)
        {
            var t = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
            t.Dims.AddRange([rng.Next(0, 5), rng.Next(0, 5)]);
            foreach (var key in new[] { "location", "offset", "length", "checksum" }.Where(_ => rng.Next(4) > 0))
                t.ExternalData.Add(new StringStringEntryProto { Key = key, Value = key == "location" ? locations[rng.Next(locations.Length)] : numbers[rng.Next(numbers.Length)] });
            var m = model.Clone();
            m.Graph.Initializer.Add(t);
            string path = Path.Combine(_dir, "fuzz.onnx");
            File.WriteAllBytes(path, m.ToByteArray());
            try { OnnxModel.Load(path); }
            catch (OnnxException) { }
        }
    }

    [Fact]
    public void Float16_weights_are_read_as_float32_and_casts_to_float16_round()
    {
        var half = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float16 };
        half.Dims.Add(3);
        // 1.5, −2 and 65504 (float16's largest) as IEEE half bits
        foreach (var v in new[] { (Half)1.5f, (Half)(-2f), Half.MaxValue })
            half.RawData = Google.Protobuf.ByteString.CopyFrom([.. half.RawData, .. BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(v))]);
        var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Save(13, ["x"], "y",
            Node("Mul", ["x", "w"], ["xw"]), Node("Cast", ["xw"], ["y"], Int("to", (long)TensorProto.Types.DataType.Float16)))));
        m.Graph.Initializer.Add(half);
        string path = Path.Combine(_dir, "half-weights.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
        var model = OnnxModel.Load(path);
        Assert.Equal([1.5, -2, 65504], Values(model.ParameterOf("w")));
        var x = new Variable(Tensor.FromArray(new float[] { 1.0001f, 1, 1 }), requiresGrad: true);
        var y = model.Forward(x);
        // 1.50015 rounds to float16's 1.5; 65504·1 stays; the gradient passes the rounding straight through
        Assert.Equal([1.5, -2, 65504], Values(y));
        y.Sum().Backward();
        Assert.Equal([1.5, -2, 65504], Values(x.Grad!));
    }

    [Theory]
    [InlineData("bilinear", "zeros", 0)]
    [InlineData("bilinear", "border", 1)]
    [InlineData("bilinear", "reflection", 0)]
    [InlineData("bicubic", "zeros", 1)]
    [InlineData("bicubic", "reflection", 1)]
    public void GridSample_gradients_reach_the_input_and_the_grid(string mode, string padding, int alignCorners)
    {
        string path = Save(16, ["x", "grid"], "y", Node("GridSample", ["x", "grid"], ["y"], Str("mode", mode), Str("padding_mode", padding), Int("align_corners", alignCorners)));
        var model = OnnxModel.Load(path);
        var rng = new Generator(17);
        var x = Tensor.Rand([1, 2, 3, 4], -1, 1, DType.Float64, rng);
        // locations inside and outside [−1, 1], away from the integer pixel positions where the taps change
        var grid = Tensor.Rand([1, 2, 3, 2], -1.4, 1.4, DType.Float64, rng);
        GradCheck.Assert(v => model.Run(v[0], v[1])[0], [x, grid], name: $"GridSample {mode} {padding}");
    }

    [Fact]
    public void Dft_det_and_inverse_trigonometric_gradients_match_finite_differences()
    {
        var rng = new Generator(23);
        var dft = OnnxModel.Load(Save(17, ["x"], "y", Node("DFT", ["x"], ["y"], Int("axis", 1))));
        GradCheck.Assert(v => dft.Run(v[0])[0], [Tensor.Rand([2, 5, 2], -1, 1, DType.Float64, rng)], name: "DFT");
        var det = OnnxModel.Load(Save(13, ["x"], "y", Node("Det", ["x"], ["y"])));
        GradCheck.Assert(v => det.Run(v[0])[0], [Tensor.Rand([2, 3, 3], -1, 1, DType.Float64, rng)], name: "Det");
        var trig = OnnxModel.Load(Save(13, ["x"], "y", Node("Asin", ["x"], ["a"]), Node("Atan", ["a"], ["b"]), Node("Acos", ["x"], ["c"]), Node("Mul", ["b", "c"], ["y"])));
        GradCheck.Assert(v => trig.Run(v[0])[0], [Tensor.Rand([3, 4], -0.9, 0.9, DType.Float64, rng)], name: "Asin/Atan/Acos");
        foreach (var mode in new[] { "avg", "max" })
        {
            var roi = OnnxModel.Load(Save(16, ["x"], "y",
                Node("Constant", [], ["rois"], Value(Tensor.FromArray(new double[] { 0.3, 0.2, 3.1, 2.7, 1.2, 0.4, 2.6, 3.3 }).Reshape(2, 4))),
                Node("Constant", [], ["batch"], Value(Tensor.FromArray(new long[] { 0, 1 }))),
                Node("RoiAlign", ["x", "rois", "batch"], ["y"], Int("output_height", 2), Int("output_width", 2), Int("sampling_ratio", 2), Str("mode", mode))));
            GradCheck.Assert(v => roi.Run(v[0])[0], [Tensor.Rand([2, 2, 4, 4], -1, 1, DType.Float64, rng)], name: $"RoiAlign {mode}");
        }
    }

    /// <summary>A direct 3-D convolution (the definition, loops), for checking the depth-walking one.</summary>
    private static double[] NaiveConv3d(double[] x, int[] xs, double[] w, int[] ws, int[] stride, int[] pad, int[] dilation, out int[] ys)
    {
        int[] o = [.. Enumerable.Range(0, 3).Select(i => (xs[2 + i] + 2 * pad[i] - dilation[i] * (ws[2 + i] - 1) - 1) / stride[i] + 1)];
        ys = [xs[0], ws[0], o[0], o[1], o[2]];
        var y = new double[ys.Aggregate(1, (p, d) => p * d)];
        for (int n = 0; n < xs[0]; n++)
            for (int k = 0; k < ws[0]; k++)
                for (int a = 0; a < o[0]; a++) for (int b = 0; b < o[1]; b++) for (int e = 0; e < o[2]; e++)
                {
                    double sum = 0;
                    for (int ch = 0; ch < xs[1]; ch++)
                        for (int i = 0; i < ws[2]; i++) for (int j = 0; j < ws[3]; j++) for (int l = 0; l < ws[4]; l++)
                        {
                            int z = a * stride[0] - pad[0] + i * dilation[0], r = b * stride[1] - pad[1] + j * dilation[1], q = e * stride[2] - pad[2] + l * dilation[2];
                            if (z < 0 || r < 0 || q < 0 || z >= xs[2] || r >= xs[3] || q >= xs[4]) continue;
                            sum += x[(((n * xs[1] + ch) * xs[2] + z) * xs[3] + r) * xs[4] + q] * w[(((k * ws[1] + ch) * ws[2] + i) * ws[3] + j) * ws[4] + l];
                        }
                    y[(((n * ws[0] + k) * o[0] + a) * o[1] + b) * o[2] + e] = sum;
                }
        return y;
    }

    [Fact]
    public void Three_d_convolution_pooling_and_transposed_convolution_match_their_definitions()
    {
        var rng = new Generator(29);
        var x = Tensor.Rand([1, 2, 5, 4, 6], -1, 1, DType.Float64, rng);
        var w = Tensor.Rand([3, 2, 2, 3, 2], -1, 1, DType.Float64, rng);
        string conv = Save(13, ["x", "w"], "y", Node("Conv", ["x", "w"], ["y"], Ints("strides", 2, 1, 2), Ints("pads", 1, 1, 0, 1, 1, 0), Ints("dilations", 2, 1, 1)));
        var model = OnnxModel.Load(conv);
        var y = model.Run(new Variable(x), new Variable(w))[0];
        var expected = NaiveConv3d(x.ToArray<double>(), [1, 2, 5, 4, 6], w.ToArray<double>(), [3, 2, 2, 3, 2], [2, 1, 2], [1, 1, 0], [2, 1, 1], out var ys);
        Assert.Equal(ys, y.Shape.ToArray());
        var got = Values(y);
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 10);
        GradCheck.Assert(v => model.Run(v[0], v[1])[0], [x, w], name: "Conv 3-D");
        // ConvTranspose 3-D is conv's adjoint: ⟨convT(z), x⟩ = ⟨z, conv(x)⟩ with the same attributes
        string convT = Save(13, ["z", "w"], "y", Node("ConvTranspose", ["z", "w"], ["y"], Ints("strides", 2, 1, 2), Ints("pads", 1, 1, 0, 1, 1, 0), Ints("dilations", 2, 1, 1),
            Ints("output_padding", 0, 0, 0)));
        var wt = Tensor.Rand([3, 2, 2, 3, 2], -1, 1, DType.Float64, rng);   // [C_in = 3, C_out = 2, …]
        var z = Tensor.Rand([.. ys], -1, 1, DType.Float64, rng);
        var transposed = OnnxModel.Load(convT).Run(new Variable(z), new Variable(wt))[0];
        Assert.Equal(x.Shape.ToArray(), transposed.Shape.ToArray());
        double left = transposed.Data.Mul(x).Sum().ToArray<double>()[0];
        double right = model.Run(new Variable(x), new Variable(wt))[0].Data.Mul(z).Sum().ToArray<double>()[0];
        Assert.Equal(right, left, 9);
        // pooling: max and average (padding excluded and included) against the window's definition
        foreach (var (op, include) in new[] { ("MaxPool", 0), ("AveragePool", 0), ("AveragePool", 1) })
        {
            var pool = OnnxModel.Load(Save(13, ["x"], "y", Node(op, ["x"], ["y"], Ints("kernel_shape", 2, 3, 2), Ints("strides", 2, 1, 2), Ints("pads", 1, 1, 0, 1, 1, 1),
                Int("count_include_pad", include))));
            var py = pool.Forward(new Variable(x));
            var xv = x.ToArray<double>();
            var pv = Values(py);
            var shape = py.Shape.ToArray();
            for (int ch = 0; ch < 2; ch++)
                for (int a = 0; a < shape[2]; a++) for (int b = 0; b < shape[3]; b++) for (int e = 0; e < shape[4]; e++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    int count = 0;
                    for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int l = 0; l < 2; l++)
                    {
                        int zz = a * 2 - 1 + i, r = b - 1 + j, q = e * 2 + l;
                        if (zz < 0 || r < 0 || q < 0 || zz >= 5 || r >= 4 || q >= 6) continue;
                        double v = xv[((ch * 5 + zz) * 4 + r) * 6 + q];
                        best = Math.Max(best, v);
                        sum += v;
                        count++;
                    }
                    double want = op == "MaxPool" ? best : sum / (include == 1 ? 12 : count);
                    Assert.Equal(want, pv[((ch * shape[2] + a) * shape[3] + b) * shape[4] + e], 10);
                }
        }
    }

    [Fact]
    public void Newer_ops_match_their_definitions_and_gradients()
    {
        var rng = new Generator(31);
        var x = Tensor.Rand([2, 4, 3, 3], -1, 1, DType.Float64, rng);
        var xv = x.ToArray<double>();
        // GroupNormalization: 2 groups of 2 channels; opset 18 scales per group, 21 per channel
        foreach (var (opset, scale) in new[] { (18, new double[] { 2, -1 }), (21, new double[] { 2, 2, -1, -1 }) })
        {
            var gn = OnnxModel.Load(Save(opset, ["x", "s", "b"], "y", Node("GroupNormalization", ["x", "s", "b"], ["y"], Int("num_groups", 2))));
            var bias = opset == 18 ? new double[] { 0.5, 0 } : [0.5, 0.5, 0, 0];
            var y = Values(gn.Run(new Variable(x), new Variable(Tensor.FromArray(scale)), new Variable(Tensor.FromArray(bias)))[0]);
            for (int n = 0; n < 2; n++)
                for (int g = 0; g < 2; g++)
                {
                    var part = Enumerable.Range(0, 18).Select(i => xv[n * 36 + g * 18 + i]).ToArray();
                    double mean = part.Average(), variance = part.Select(v => (v - mean) * (v - mean)).Average();
                    for (int i = 0; i < 18; i++)
                        Assert.Equal((part[i] - mean) / Math.Sqrt(variance + 1e-5) * (g == 0 ? 2 : -1) + (g == 0 ? 0.5 : 0), y[n * 36 + g * 18 + i], 9);
                }
            GradCheck.Assert(v => gn.Run(v[0], v[1], v[2])[0], [x, Tensor.FromArray(scale), Tensor.FromArray(bias)], name: $"GroupNormalization {opset}");
        }
        // LpPool (p = 2, 2×2, stride 1, pad 1 on top and left) and GlobalLpPool (p = 3)
        var lp = OnnxModel.Load(Save(18, ["x"], "y", Node("LpPool", ["x"], ["y"], Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0), Int("p", 2))));
        var pooled = lp.Forward(new Variable(x));
        Assert.Equal([2, 4, 3, 3], pooled.Shape.ToArray());
        var pv = Values(pooled);
        for (int plane = 0; plane < 8; plane++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    double sum = 0;
                    for (int a = i - 1; a <= i; a++) for (int b = j - 1; b <= j; b++) if (a >= 0 && b >= 0) sum += xv[plane * 9 + a * 3 + b] * xv[plane * 9 + a * 3 + b];
                    Assert.Equal(Math.Sqrt(sum), pv[plane * 9 + i * 3 + j], 9);
                }
        GradCheck.Assert(v => lp.Run(v[0])[0], [x], name: "LpPool");
        var glp = OnnxModel.Load(Save(18, ["x"], "y", Node("GlobalLpPool", ["x"], ["y"], Int("p", 3))));
        Assert.Equal(Math.Cbrt(Enumerable.Range(0, 9).Sum(i => Math.Pow(Math.Abs(xv[i]), 3))), Values(glp.Forward(new Variable(x)))[0], 9);
        var lpn = OnnxModel.Load(Save(18, ["x"], "y", Node("LpNormalization", ["x"], ["y"], Int("axis", 1))));
        var normalized = Values(lpn.Forward(new Variable(x)));
        double norm0 = Math.Sqrt(Enumerable.Range(0, 4).Sum(ch => xv[ch * 9] * xv[ch * 9]));
        Assert.Equal(xv[9] / norm0, normalized[9], 9);
        // CenterCropPad: height 3 → 1 (the middle row), width 3 → 5 (one zero each side)
        var ccp = OnnxModel.Load(Save(18, ["x", "shape"], "y", Node("CenterCropPad", ["x", "shape"], ["y"], Ints("axes", 2, 3))));
        var cropped = ccp.Run(new Variable(x), new Variable(Tensor.FromArray(new long[] { 1, 5 })))[0];
        Assert.Equal([2, 4, 1, 5], cropped.Shape.ToArray());
        Assert.Equal([0, xv[3], xv[4], xv[5], 0], Values(cropped)[..5]);
        // AffineGrid of the identity, then GridSample: the input comes back
        var identity = OnnxModel.Load(Save(20, ["x", "theta", "size"], "y",
            Node("AffineGrid", ["theta", "size"], ["grid"]), Node("GridSample", ["x", "grid"], ["y"], Str("mode", "linear"))));
        var theta = Tensor.FromArray(new double[] { 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0 }).Reshape(2, 2, 3);
        var back = identity.Run(new Variable(x), new Variable(theta), new Variable(Tensor.FromArray(new long[] { 2, 4, 3, 3 })))[0];
        var bv = Values(back);
        for (int i = 0; i < xv.Length; i++) Assert.Equal(xv[i], bv[i], 9);
        var bits = OnnxModel.Load(Save(18, ["a", "b"], "y", Node("BitwiseXor", ["a", "b"], ["y"])));
        Assert.Equal([6, 0, -1], bits.Run(new Variable(Tensor.FromArray(new long[] { 5, 7, 0 })), new Variable(Tensor.FromArray(new long[] { 3, 7, -1 })))[0].Data.ToArray<long>().Select(v => (double)v));
    }

    [Fact]
    public void Gradients_through_imported_ops_match_finite_differences()
    {
        // one graph through many of the new ops; every step a Variable, so GradCheck sees the whole chain
        string path = Save(18, ["x", "s"], "y",
            Node("Constant", [], ["pads"], Value(Tensor.FromArray(new long[] { 0, 0, 1, 2, 0, 0, 1, 0 }))),
            Node("Pad", ["x", "pads"], ["p"], Str("mode", "reflect")),
            Node("Constant", [], ["scales"], Value(Tensor.FromArray(new float[] { 1, 1, 1.5f, 0.75f }))),
            Node("Resize", ["p", "", "scales"], ["r"], Str("mode", "linear")),
            Node("Elu", ["r"], ["e"]),
            Node("PRelu", ["e", "s"], ["pr"]),
            Node("Softplus", ["pr"], ["sp"]),
            Node("Constant", [], ["starts"], Value(Tensor.FromArray(new long[] { -1 }))),
            Node("Constant", [], ["ends"], Value(Tensor.FromArray(new long[] { -100 }))),
            Node("Constant", [], ["axes"], Value(Tensor.FromArray(new long[] { 3 }))),
            Node("Constant", [], ["steps"], Value(Tensor.FromArray(new long[] { -2 }))),
            Node("Slice", ["sp", "starts", "ends", "axes", "steps"], ["sl"]),
            Node("Einsum", ["sl", "sl"], ["ein"], Str("equation", "nchw,nchv->ncwv")),
            Node("LayerNormalization", ["ein", "s1", "b1"], ["ln"], Int("axis", -1)),
            Node("Constant", [], ["one"], Value(Tensor.FromArray(new long[] { 1 }))),
            Node("CumSum", ["ln", "one"], ["cs"]),
            Node("Constant", [], ["raxes"], Value(Tensor.FromArray(new long[] { 2, 3 }))),
            Node("ReduceL2", ["cs", "raxes"], ["y"]));
        // LayerNormalization's scale and bias as graph inputs of the right size, made here
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        proto.Graph.Input.Add(new ValueInfoProto { Name = "s1" });
        proto.Graph.Input.Add(new ValueInfoProto { Name = "b1" });
        File.WriteAllBytes(path, proto.ToByteArray());
        var model = OnnxModel.Load(path);
        var rng = new Generator(3);
        var x = Tensor.Rand([1, 2, 3, 4], -0.5, 0.5, DType.Float64, rng);
        var slope = Tensor.Rand([2, 1, 1], 0, 1, DType.Float64, rng);
        var s1 = Tensor.Rand([2], 0.5, 1.5, DType.Float64, rng);
        var b1 = Tensor.Rand([2], 0, 1, DType.Float64, rng);
        GradCheck.Assert(v => model.Run(v[0], v[1], v[2], v[3])[0], [x, slope, s1, b1], name: "imported graph");
    }
}

/// <summary>The Cast function (float32 ↔ float64) and ConvTranspose2d: their gradients, and the transposed convolution's shape.</summary>
public sealed class CastAndConvTransposeTests
{
    [Fact]
    public void Cast_passes_the_gradient_back_in_the_source_type()
    {
        var x = new Variable(Tensor.FromArray(new double[] { 1.25, -2, 3.1 }), requiresGrad: true);
        var y = x.To(DType.Float32);
        Assert.Equal(DType.Float32, y.DType);
        (y * y).Sum().Backward();
        Assert.Equal(DType.Float64, x.Grad!.DType);
        Assert.Equal([2.5, -4, 2 * (double)3.1f], x.Grad.Data.ToArray<double>());
        Assert.Same(x, x.To(DType.Float64));
        Assert.Throws<DTypeException>(() => new Variable(Tensor.FromArray(new long[] { 1 })).To(DType.Float32));
    }

    [Fact]
    public void ConvTranspose2d_is_the_adjoint_of_conv2d_and_gradchecks()
    {
        var options = new Conv2dOptions { Stride = 2, Padding = new Padding2d(1, 0, 0, 1) };
        var rng = new Generator(9);
        var x = Tensor.Rand([1, 3, 3, 3], -1, 1, DType.Float64, rng);
        var w = Tensor.Rand([3, 2, 3, 2], -1, 1, DType.Float64, rng);
        var b = Tensor.Rand([2], -1, 1, DType.Float64, rng);
        int[] outShape = [1, 2, 6, 6];
        var y = new Variable(x).ConvTranspose2d(new Variable(w), null, outShape, options);
        Assert.Equal(outShape, y.Shape.ToArray());
        // ⟨convT(x), z⟩ = ⟨x, conv(z)⟩ for any z of the output's shape
        var z = Tensor.Rand(outShape, -1, 1, DType.Float64, rng);
        double left = y.Data.Mul(z).Sum().ToArray<double>()[0];
        double right = x.Mul(z.Conv2d(w, null, options)).Sum().ToArray<double>()[0];
        Assert.Equal(right, left, 10);
        GradCheck.Assert(v => v[0].ConvTranspose2d(v[1], v[2], outShape, options), [x, w, b], name: "ConvTranspose2d");
    }
}
