using Engine.Onnx;
using Engine.Onnx.Proto;

namespace Engine.Tests;

/// <summary>
/// ONNX's own node tests (Debian's libonnx-testdata: a one-node model, its inputs and expected outputs)
/// for every op the importer claims, run through <see cref="OnnxModel"/> and compared with ONNX's
/// tolerances (rtol 1e-3, atol 1e-7, as the ONNX backend tests use). The cases we know we fail are
/// skipped with the reason, and listed in the README.
/// </summary>
public sealed class OnnxNodeConformanceTests
{
    private static string Root => Optim.OnnxNodeTest.Root;

    private static readonly Dictionary<string, string> OpOfPrefix = new()
    {
        ["conv"] = "Conv", ["batchnorm"] = "BatchNormalization", ["relu"] = "Relu", ["leakyrelu"] = "LeakyRelu",
        ["sigmoid"] = "Sigmoid", ["tanh"] = "Tanh", ["clip"] = "Clip", ["add"] = "Add", ["sub"] = "Sub", ["mul"] = "Mul",
        ["div"] = "Div", ["matmul"] = "MatMul", ["gemm"] = "Gemm", ["maxpool"] = "MaxPool", ["averagepool"] = "AveragePool",
        ["globalaveragepool"] = "GlobalAveragePool", ["flatten"] = "Flatten", ["reshape"] = "Reshape", ["transpose"] = "Transpose",
        ["concat"] = "Concat", ["softmax"] = "Softmax", ["logsoftmax"] = "LogSoftmax", ["dropout"] = "Dropout",
        ["identity"] = "Identity", ["constant"] = "Constant",
    };

    /// <summary>Every node-test folder whose single node is one of our ops (the "_expanded" function forms excluded).</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        if (!Directory.Exists(Root)) { data.Add("(libonnx-testdata not installed)"); return data; }
        foreach (var dir in Directory.GetDirectories(Root).Select(Path.GetFileName).Order())
        {
            if (dir!.Contains("_expanded")) continue;
            var model = Path.Combine(Root, dir, "model.onnx");
            if (!File.Exists(model)) continue;
            var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
            if (m.Graph.Node.Count == 1 && OnnxModel.SupportedOps.Contains(m.Graph.Node[0].OpType) && m.Graph.Node[0].Domain is "" or "ai.onnx")
                data.Add(dir);
        }
        return data;
    }

    /// <summary>Cases we fail, with the reason (see the README's ONNX section).</summary>
    internal static readonly Dictionary<string, string> KnownFailures = new()
    {
        ["test_add_uint8"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_sub_uint8"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_mul_uint8"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_div_uint8"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_maxpool_2d_uint8"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_clip_default_int8_max"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_clip_default_int8_min"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_clip_default_int8_inbounds"] = "uint8/int8 tensors: the engine has no 8-bit integer dtypes",
        ["test_averagepool_1d_default"] = "1-D and 3-D pooling: the engine pools 2-D (NCHW) only",
        ["test_averagepool_3d_default"] = "1-D and 3-D pooling: the engine pools 2-D (NCHW) only",
        ["test_maxpool_1d_default"] = "1-D and 3-D pooling: the engine pools 2-D (NCHW) only",
        ["test_maxpool_3d_default"] = "1-D and 3-D pooling: the engine pools 2-D (NCHW) only",
        ["test_averagepool_2d_pads"] = "padding larger than half the window: the pooling kernels keep PyTorch's limit (pad <= kernel/2)",
        ["test_averagepool_2d_pads_count_include_pad"] = "padding larger than half the window: the pooling kernels keep PyTorch's limit (pad <= kernel/2)",
        ["test_maxpool_2d_pads"] = "padding larger than half the window: the pooling kernels keep PyTorch's limit (pad <= kernel/2)",
        ["test_batchnorm_epsilon_training_mode"] = "training-mode BatchNormalization's extra outputs (running mean and variance): not produced",
        ["test_batchnorm_example_training_mode"] = "training-mode BatchNormalization's extra outputs (running mean and variance): not produced",
        ["test_training_dropout"] = "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce",
        ["test_training_dropout_default"] = "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce",
        ["test_training_dropout_mask"] = "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce",
        ["test_training_dropout_default_mask"] = "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce",
        ["test_identity_opt"] = "sequence and optional types: not supported",
        ["test_identity_sequence"] = "sequence and optional types: not supported",
    };

    [SkippableTheory, MemberData(nameof(Cases))]
    public void Node_test_matches_onnx_reference_outputs(string name)
    {
        Assert.True(Directory.Exists(Root), $"ONNX node tests not found in {Root}: apt-get install -y libonnx-testdata (.ci/run does this)");
        Skip.If(KnownFailures.TryGetValue(name, out var reason), reason);
        string dir = Path.Combine(Root, name);
        using var scope = Tensor.Scope();
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        model.Eval();
        string data = Path.Combine(dir, "test_data_set_0");
        var inputs = model.Inputs.Select((n, k) => new Variable(OnnxTensors.ToTensor(
            TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, $"input_{k}.pb"))), n))).ToArray();
        IReadOnlyList<Variable> outputs;
        using (GradMode.NoGrad()) outputs = model.Run(inputs);
        for (int k = 0; k < model.Outputs.Count; k++)
        {
            var expected = OnnxTensors.ToTensor(TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, $"output_{k}.pb"))), "expected");
            var actual = outputs[k].Data;
            Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
            var e = expected.To(DType.Float64).Reshape(-1).ToArray<double>();
            var a = actual.To(DType.Float64).Reshape(-1).ToArray<double>();
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(a[i] - e[i]) <= 1e-7 + 1e-3 * Math.Abs(e[i]) || (double.IsNaN(a[i]) && double.IsNaN(e[i])),
                    $"{name}: output {k} element {i}: expected {e[i]}, got {a[i]}");
        }
    }
}
