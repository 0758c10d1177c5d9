using Engine.Onnx.Proto;

namespace Engine.Onnx;

/// <summary>
/// One node of a loaded graph as its op sees it: the proto, the default-domain opset the model
/// declares, and the attributes, indexed once at load and read with the specification's defaults.
/// </summary>
internal sealed class OnnxNode
{
    private readonly Dictionary<string, AttributeProto> _attributes;

    public OnnxNode(NodeProto proto, string source, long opset)
    {
        Proto = proto;
        Source = source;
        Opset = opset;
        _attributes = proto.Attribute.DistinctBy(x => x.Name).ToDictionary(x => x.Name);
    }

    /// <summary>At load: the rank of a value the file fixes (an initializer, a Constant, a declared graph input), or null.</summary>
    public Func<string, int?> KnownRank { get; init; } = _ => null;

    public NodeProto Proto { get; }
    public string Source { get; }
    public long Opset { get; }
    public string OpType => Proto.OpType;
    public int InputCount => Proto.Input.Count;
    public int OutputCount => Proto.Output.Count;

    private string[]? _reads, _touches;

    /// <summary>The names this node reads: its inputs and what its subgraphs read from outside (empty names left out); made once.</summary>
    public string[] Reads => _reads ??= [.. Proto.Input.Concat(OnnxRewrite.SubgraphReads(Proto)).Where(n => n.Length > 0)];

    /// <summary><see cref="Reads"/> and the node's named outputs: what inference may release after the node runs.</summary>
    public string[] Touches => _touches ??= [.. Reads, .. Proto.Output.Where(n => n.Length > 0)];

    /// <summary>True when output <paramref name="i"/> is named (optional outputs may be left out or empty).</summary>
    public bool WantsOutput(int i) => i < Proto.Output.Count && Proto.Output[i].Length > 0;

    public static string Describe(NodeProto node) => node.Domain == OnnxRewrite.FusedDomain
        ? $"Conv '{node.Name}' (with the BatchNormalization after it)"
        : $"{node.OpType} '{(node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault())}'";

    /// <summary>An error naming the file, the node and its op.</summary>
    public OnnxException Error(string message) => new($"{Source}: node {Describe(Proto)}: {message}");

    /// <summary>An engine limit: "not supported", with the op and the opset.</summary>
    public OnnxException NotSupported(string what) => new($"{Source}: node {Describe(Proto)}: {what} is not supported (opset {Opset})");

    public bool Has(string name) => _attributes.ContainsKey(name);

    public long Long(string name, long fallback) => _attributes.TryGetValue(name, out var x) ? x.I : fallback;

    public int Int(string name, int fallback)
    {
        if (!_attributes.TryGetValue(name, out var x)) return fallback;
        return x.I is >= int.MinValue and <= int.MaxValue ? (int)x.I : throw Error($"attribute '{name}' = {x.I} is beyond 32 bits");
    }

    public float Float(string name, float fallback) => _attributes.TryGetValue(name, out var x) ? x.F : fallback;

    public string String(string name, string fallback) => _attributes.TryGetValue(name, out var x) ? x.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => _attributes.TryGetValue(name, out var x) ? [.. x.Ints] : null;

    public long[] RequiredInts(string name) => Ints(name) ?? throw Error($"attribute '{name}' is required");

    public float[]? Floats(string name) => _attributes.TryGetValue(name, out var x) ? [.. x.Floats] : null;

    public TensorProto? TensorAttribute(string name) => _attributes.TryGetValue(name, out var x) ? x.T : null;

    public AttributeProto? Attribute(string name) => _attributes.GetValueOrDefault(name);
}

/// <summary>A node being run: its load-time facts (<see cref="Node"/>), this call's inputs and the model's mode.</summary>
internal readonly struct OnnxCall(OnnxNode node, Variable?[] inputs, OnnxModel model, IReadOnlyDictionary<string, Variable>? scope = null)
{
    /// <summary>The values this node's graph can see (what a subgraph of If, Loop or Scan reads from outside).</summary>
    public IReadOnlyDictionary<string, Variable> Scope => scope ?? new Dictionary<string, Variable>();

    public OnnxNode Node => node;
    public OnnxModel Model => model;
    public long Opset => node.Opset;

    /// <summary>True when the model trains (not frozen, in training mode): BatchNorm uses batch statistics, Dropout drops.</summary>
    public bool Training => model.IsTraining && !model.IsFrozen;

    public int Count => inputs.Length;

    /// <summary>Input <paramref name="i"/>, or null when it is absent or left empty.</summary>
    public Variable? In(int i) => i < inputs.Length ? inputs[i] : null;

    /// <summary>Input <paramref name="i"/>, which the op requires.</summary>
    public Variable X(int i) => In(i) ?? throw node.Error($"required input {i} is missing");

    /// <summary>Every present input, in order (the variadic ops).</summary>
    public IEnumerable<Variable> All => inputs.Where(v => v is not null)!;

    /// <summary>Input <paramref name="i"/> as integers (shapes, axes, pads, sizes), or null when absent.</summary>
    public long[]? Longs(int i)
    {
        var v = In(i);
        if (v is null) return null;
        if (v.DType is DType.Bool) throw node.Error($"input {i} holds booleans where integers are needed");
        return v.DType is DType.Int64 ? v.Data.ToArray<long>() : v.Data.To(DType.Int64).ToArray<long>();
    }

    public long[] RequiredLongs(int i, string what) => Longs(i) ?? throw node.Error($"the {what} input ({i}) is missing");

    /// <summary>Input <paramref name="i"/> as doubles, or null when absent.</summary>
    public double[]? Doubles(int i) => In(i)?.Data.To(DType.Float64).ToArray<double>();

    /// <summary>The one value of scalar input <paramref name="i"/>, or null when it is absent.</summary>
    public double? Scalar(int i)
    {
        var d = Doubles(i);
        if (d is null) return null;
        return d.Length == 1 ? d[0] : throw node.Error($"input {i} must hold one value, not {d.Length}");
    }

    public OnnxException Error(string message) => node.Error(message);
    public OnnxException NotSupported(string what) => node.NotSupported(what);
    public bool Has(string name) => node.Has(name);
    public int Int(string name, int fallback) => node.Int(name, fallback);
    public long Long(string name, long fallback) => node.Long(name, fallback);
    public float Float(string name, float fallback) => node.Float(name, fallback);
    public string String(string name, string fallback) => node.String(name, fallback);
    public long[]? Ints(string name) => node.Ints(name);
    public float[]? Floats(string name) => node.Floats(name);

    /// <summary><paramref name="axis"/> counted from the end when negative, checked to lie in 0 to <paramref name="rank"/> − 1.</summary>
    public int Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? (int)a : throw node.Error($"axis {axis} is out of range for rank {rank}");
    }
}
