using Engine.Onnx.Proto;

namespace Engine.Tests.Optim;

/// <summary>
/// One of ONNX's node tests as Debian's libonnx-testdata installs it: <c>model.onnx</c> (a graph with a
/// single node) and <c>test_data_set_0/input_k.pb</c>, <c>output_k.pb</c>, each a serialized
/// <c>TensorProto</c> for the graph's k-th input or output. Read with the messages of
/// <c>onnx_subset.proto</c>.
/// </summary>
internal sealed class OnnxNodeTest
{
    public const string DefaultRoot = "/usr/share/libonnx-testdata/data/node";

    /// <summary>
    /// Where the node tests are: <c>$ONNX_TESTDATA_DIR</c>; else Debian's location when the package is
    /// installed; else where <c>tools/fetch-test-data.sh</c> unpacks it (no root needed) in the repository.
    /// </summary>
    public static string Root => Environment.GetEnvironmentVariable("ONNX_TESTDATA_DIR") is { Length: > 0 } dir ? dir
        : Directory.Exists(DefaultRoot) ? DefaultRoot
        : Path.Combine(FashionMnistPaths.RepositoryRoot(), "artifacts", "test-data", "usr", "share", "libonnx-testdata", "data", "node");

    /// <summary>The seven optimizer tests, vendored beside the test binaries (data/onnx-node/README.md).</summary>
    public static string VendoredRoot => Path.Combine(AppContext.BaseDirectory, "data", "onnx-node");

    /// <summary>What to do when the node tests are missing.</summary>
    public const string HowToGet =
        "install Debian's libonnx-testdata (apt-get install -y libonnx-testdata; .ci/run does this), or run tools/fetch-test-data.sh " +
        "(no root: it unpacks the package into artifacts/test-data), or set ONNX_TESTDATA_DIR to a data/node folder";

    private OnnxNodeTest(string name, NodeProto node, List<(string Name, OnnxTensor Value)> inputs, List<(string Name, OnnxTensor Value)> outputs)
    {
        Name = name;
        Node = node;
        Inputs = inputs;
        Outputs = outputs;
    }

    public string Name { get; }
    public NodeProto Node { get; }
    public IReadOnlyList<(string Name, OnnxTensor Value)> Inputs { get; }
    public IReadOnlyList<(string Name, OnnxTensor Value)> Outputs { get; }

    /// <summary>Loads test <paramref name="name"/>; fails (never skips) when the package is not installed.</summary>
    public static OnnxNodeTest Load(string name, string? root = null)
    {
        string dir = Path.Combine(root ?? Root, name);
        string modelPath = Path.Combine(dir, "model.onnx");
        if (!File.Exists(modelPath))
            Assert.Fail($"ONNX reference test data not found: {modelPath} does not exist: {HowToGet}.");
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        Assert.Single(model.Graph.Node);
        string data = Path.Combine(dir, "test_data_set_0");
        var inputs = model.Graph.Input.Select((v, k) => (v.Name, Read(Path.Combine(data, $"input_{k}.pb"), v.Name))).ToList();
        var outputs = model.Graph.Output.Select((v, k) => (v.Name, Read(Path.Combine(data, $"output_{k}.pb"), v.Name))).ToList();
        return new OnnxNodeTest(name, model.Graph.Node[0], inputs, outputs);
    }

    public OnnxTensor Input(string name) => Inputs.Single(i => i.Name == name).Value;

    public OnnxTensor Output(string name) => Outputs.Single(o => o.Name == name).Value;

    /// <summary>A float attribute of the node, or <paramref name="defaultValue"/> (the operator's default) when absent.</summary>
    public float FloatAttribute(string name, float defaultValue) => TryFloatAttribute(name) ?? defaultValue;

    /// <summary>A float attribute of the node, or null when the node does not set it.</summary>
    public float? TryFloatAttribute(string name) =>
        Node.Attribute.SingleOrDefault(a => a.Name == name) is { } a ? a.F : null;

    /// <summary>A string attribute of the node, or <paramref name="defaultValue"/> when absent.</summary>
    public string StringAttribute(string name, string defaultValue) =>
        Node.Attribute.SingleOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : defaultValue;

    private static OnnxTensor Read(string path, string expectedName)
    {
        Assert.True(File.Exists(path), $"{path} is missing from the ONNX test data");
        var t = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        if (t.Name.Length > 0) Assert.Equal(expectedName, t.Name);
        int[] shape = [.. t.Dims.Select(d => checked((int)d))];
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var raw = t.RawData.Span;
        double[] values = t.DataType switch
        {
            1 when raw.Length > 0 => [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray().Select(f => (double)f)],
            1 => [.. t.FloatData.Select(f => (double)f)],
            7 when raw.Length > 0 => [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw).ToArray().Select(v => (double)v)],
            7 => [.. t.Int64Data.Select(v => (double)v)],
            11 when raw.Length > 0 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(raw).ToArray(),
            11 => [.. t.DoubleData],
            _ => throw new InvalidDataException($"{path}: data_type {t.DataType} is not read by these tests"),
        };
        Assert.True(BitConverter.IsLittleEndian, "raw_data is little-endian; this reader assumes a little-endian machine");
        Assert.Equal(n, values.Length);
        return new OnnxTensor(shape, values, t.DataType);
    }
}

/// <summary>A tensor read from a TensorProto: its shape, its elements as doubles (exact for float32 and int64 below 2⁵³) and its ONNX data type.</summary>
internal sealed record OnnxTensor(int[] Shape, double[] Values, int DataType)
{
    public const int Float = 1;

    /// <summary>The elements as float32 (exact when the data type is FLOAT).</summary>
    public float[] Floats => [.. Values.Select(v => (float)v)];

    /// <summary>The single element of a scalar.</summary>
    public double Scalar => Assert.Single(Values);
}
