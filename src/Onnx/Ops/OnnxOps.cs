using Engine.Onnx.Proto;

namespace Engine.Onnx;

/// <summary>One ONNX op: the node's inputs in, its outputs out (Variables, so float paths train).</summary>
internal delegate Variable[] OnnxOp(OnnxCall call);

/// <summary>An op the importer runs, and what of its forms it refuses when the model loads (null: nothing).</summary>
internal sealed record OpDef(OnnxOp Run, Func<OnnxNode, string?>? Refuse = null);

/// <summary>
/// The ops of the default ONNX domain, one small function each (in OnnxOps.*.cs by kind), each reading
/// its attributes with the specification's defaults for the opset the model declares (1 to 21).
/// </summary>
internal static partial class OnnxOps
{
    /// <summary>The ops that produce fresh random values: never folded into constants at load.</summary>
    private static readonly HashSet<string> s_random = ["Dropout", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial"];

    /// <summary>The ops with subgraphs, which may read values that are not their inputs: never folded either.</summary>
    private static readonly HashSet<string> s_control = ["If", "Loop", "Scan"];

    private static readonly Dictionary<string, OpDef> s_ops = Build();

    private static Dictionary<string, OpDef> Build()
    {
        var ops = new Dictionary<string, OpDef>();
        RegisterMath(ops);
        RegisterShape(ops);
        RegisterNn(ops);
        RegisterReduce(ops);
        RegisterResize(ops);
        RegisterRecurrent(ops);
        RegisterMisc(ops);
        RegisterControl(ops);
        RegisterGridSample(ops);
        RegisterSpectral(ops);
        RegisterRoiAlign(ops);
        RegisterNewer(ops);
        RegisterContrib(ops);
        return ops;
    }

    /// <summary>The op types of the default domain the importer runs.</summary>
    public static IReadOnlyCollection<string> Names { get; } = [.. s_ops.Keys.Where(k => !k.Contains('.'))];

    /// <summary>The ops of other domains the importer runs, as "domain.op".</summary>
    public static IReadOnlyCollection<string> OtherDomains { get; } = [.. s_ops.Keys.Where(k => k.Contains('.'))];

    /// <summary>The op for a node of the default domain, or the rewriter's own fused ops; null otherwise.</summary>
    public static OpDef? Find(NodeProto node, IReadOnlyDictionary<string, OpDef>? own = null) =>
        node.Domain is "" or "ai.onnx" ? s_ops.GetValueOrDefault(node.OpType)
        : s_ops.TryGetValue(node.Domain + "." + node.OpType, out var def) ? def
        : own is not null && own.TryGetValue(node.Domain + "." + node.OpType, out var fused) ? fused : null;

    /// <summary>True when the node may be computed once at load when its inputs are all constants.</summary>
    public static bool Foldable(NodeProto node) => !s_random.Contains(node.OpType) && !s_control.Contains(node.OpType);

    /// <summary>Why the importer cannot run <paramref name="node"/> (an engine limit: "not supported"), or null.</summary>
    public static string? Problem(OnnxNode node)
    {
        var proto = node.Proto;
        string where = OnnxNode.Describe(proto);
        OpDef? def;
        if (proto.Domain is not ("" or "ai.onnx"))
        {
            if (!s_ops.TryGetValue(proto.Domain + "." + proto.OpType, out def))
                return OtherDomains.Any(k => k.StartsWith(proto.Domain + ".", StringComparison.Ordinal))
                    ? $"{where}: {proto.Domain}.{proto.OpType} is not supported (of domain '{proto.Domain}', only {string.Join(", ", OtherDomains.Where(k => k.StartsWith(proto.Domain + ".", StringComparison.Ordinal)).Select(k => k[(proto.Domain.Length + 1)..]))} are)"
                    : $"{where}: ops of domain '{proto.Domain}' are not supported";
        }
        else if (!s_ops.TryGetValue(proto.OpType, out def)) return $"{where}: the op is not supported";
        return def.Refuse?.Invoke(node) is { } why ? $"{where}: {why} is not supported (opset {node.Opset})" : null;
    }
}
