using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Onnx;

/// <summary>
/// Rewrites of graphs: of model files, so that other runtimes can run what <see cref="OnnxModel"/> runs by
/// option, and of the node list <see cref="OnnxModel"/> runs (fusions).
/// </summary>
public static class OnnxRewrite
{
    /// <summary>The domain of the nodes the rewrites make (never read from a file: the importer refuses other domains).</summary>
    internal const string FusedDomain = "engine.fused";
    /// <summary>A Conv followed by the BatchNormalization that alone reads it.</summary>
    internal const string ConvBatchNorm = "ConvBatchNormalization";
    /// <summary>A Conv followed by the Relu that alone reads it.</summary>
    internal const string ConvRelu = "ConvRelu";

    /// <summary>The names the subgraphs of <paramref name="node"/> (If, Loop, Scan bodies) read, at any depth.</summary>
    internal static IEnumerable<string> SubgraphReads(NodeProto node) =>
        node.Attribute.SelectMany(a => a.G is null ? a.Graphs : a.Graphs.Prepend(a.G))
            .SelectMany(g => g.Node.SelectMany(n => n.Input.Concat(SubgraphReads(n))));

    /// <summary>How many times each value is read (subgraphs included), and the node that produces each value.</summary>
    private static (Dictionary<string, int> Uses, Dictionary<string, NodeProto> Producer) Readers(List<NodeProto> list)
    {
        var uses = list.SelectMany(n => n.Input.Concat(SubgraphReads(n))).Where(i => i.Length > 0).GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
        var producer = new Dictionary<string, NodeProto>();
        foreach (var n in list)
            foreach (var o in n.Output.Where(o => o.Length > 0)) producer.TryAdd(o, n);
        return (uses, producer);
    }

    /// <summary>
    /// Every Conv whose output only feeds a BatchNormalization (and is no graph output) fused with it into one
    /// <see cref="ConvBatchNorm"/> node: inputs x, w, b (or empty), γ, β, mean, variance; the Conv's attributes
    /// and the normalization's epsilon and momentum; the normalization's output. Other nodes are kept as they are.
    /// </summary>
    internal static List<NodeProto> FuseConvBatchNorm(IEnumerable<NodeProto> nodes, IReadOnlySet<string> graphOutputs)
    {
        var list = nodes.ToList();
        var (uses, producer) = Readers(list);
        var fusedInto = new Dictionary<NodeProto, NodeProto>(ReferenceEqualityComparer.Instance);
        var dropped = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var bn in list.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx" && n.Input.Count == 5
                     && n.Output.Skip(1).All(o => o.Length == 0) && !n.Attribute.Any(a => a.Name is "spatial" && a.I == 0 || a.Name is "training_mode" && a.I != 0)))
        {
            if (!producer.TryGetValue(bn.Input[0], out var conv) || conv.OpType != "Conv" || conv.Domain is not ("" or "ai.onnx")) continue;
            if (uses[bn.Input[0]] != 1 || graphOutputs.Contains(bn.Input[0]) || conv.Input.Count < 2 || fusedInto.ContainsKey(conv)) continue;
            var fused = new NodeProto { OpType = ConvBatchNorm, Domain = FusedDomain, Name = conv.Name.Length > 0 ? conv.Name : conv.Output[0] };
            fused.Input.AddRange([conv.Input[0], conv.Input[1], conv.Input.Count > 2 ? conv.Input[2] : "", .. bn.Input.Skip(1)]);
            fused.Output.Add(bn.Output[0]);
            fused.Attribute.AddRange(conv.Attribute);
            fused.Attribute.AddRange(bn.Attribute.Where(a => a.Name is "epsilon" or "momentum"));
            fusedInto[conv] = fused;
            dropped.Add(bn);
        }
        // the fused node takes the BatchNormalization's place, after everything both read
        var result = new List<NodeProto>();
        foreach (var n in list)
        {
            if (fusedInto.ContainsKey(n)) continue;
            if (dropped.Contains(n))
            {
                result.Add(fusedInto.First(kv => kv.Value.Output[0] == n.Output[0]).Value);
                continue;
            }
            result.Add(n);
        }
        return result;
    }

    /// <summary>
    /// Every Conv (or fused <see cref="ConvBatchNorm"/>) whose output only feeds a Relu, or only feeds an Add whose
    /// output only feeds a Relu (a ResNet block: relu(bn(conv(x)) + shortcut)), merged with them (no graph outputs in
    /// between): a Conv becomes a <see cref="ConvRelu"/> node, a fused node gains the attribute relu = 1; the Add's other
    /// operand becomes the merged node's last input with the attribute residual = 1; the merged node writes the Relu's
    /// output, so in inference the shortcut and the ReLU are applied as the convolution writes.
    /// </summary>
    internal static List<NodeProto> FuseRelu(List<NodeProto> list, IReadOnlySet<string> graphOutputs)
    {
        var (uses, producer) = Readers(list);
        bool OnlyUse(string value) => uses.GetValueOrDefault(value) == 1 && !graphOutputs.Contains(value);
        bool IsConv(NodeProto n) => n.Output.Count == 1 && (n.OpType == "Conv" && n.Domain is "" or "ai.onnx" && n.Input.Count >= 2
            || n.OpType == ConvBatchNorm && n.Domain == FusedDomain);
        var merged = new Dictionary<NodeProto, NodeProto>(ReferenceEqualityComparer.Instance);   // relu → merged node
        var absorbed = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var relu in list.Where(n => n.OpType == "Relu" && n.Domain is "" or "ai.onnx" && n.Input.Count == 1))
        {
            if (!producer.TryGetValue(relu.Input[0], out var before) || absorbed.Contains(before) || !OnlyUse(relu.Input[0])) continue;
            NodeProto? conv = null, add = null;
            string? shortcut = null;
            if (IsConv(before)) conv = before;
            else if (before.OpType == "Add" && before.Domain is "" or "ai.onnx" && before.Input.Count == 2 && before.Attribute.Count == 0)
                for (int side = 0; side < 2 && conv is null; side++)
                    if (producer.TryGetValue(before.Input[side], out var p) && IsConv(p) && !absorbed.Contains(p) && OnlyUse(before.Input[side])
                        && before.Input[1 - side] != before.Input[side])
                        (conv, add, shortcut) = (p, before, before.Input[1 - side]);
            if (conv is null) continue;
            var node = conv.OpType == "Conv"
                ? new NodeProto { OpType = ConvRelu, Domain = FusedDomain, Name = conv.Name.Length > 0 ? conv.Name : conv.Output[0] }
                : conv.Clone();
            if (conv.OpType == "Conv")
            {
                node.Input.AddRange([conv.Input[0], conv.Input[1], conv.Input.Count > 2 ? conv.Input[2] : ""]);
                node.Attribute.AddRange(conv.Attribute);
            }
            else node.Attribute.Add(new AttributeProto { Name = "relu", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            if (shortcut is not null)
            {
                node.Input.Add(shortcut);
                node.Attribute.Add(new AttributeProto { Name = "residual", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                absorbed.Add(add!);
            }
            node.Output.Clear();
            node.Output.Add(relu.Output[0]);
            merged[relu] = node;
            absorbed.Add(conv);
        }
        // the merged node takes the Relu's place, after everything it reads
        return [.. list.Where(n => !absorbed.Contains(n)).Select(n => merged.TryGetValue(n, out var m) ? m : n)];
    }

    /// <summary>
    /// The model with its declared input, output and intermediate shapes dropped (they fix the batch
    /// at 1 and the side at 224 for the pretrained ResNet18) and, when <paramref name="globalFinalPool"/>,
    /// each AveragePool that produces a graph output replaced by GlobalAveragePool (what
    /// <see cref="OnnxImportOptions.FinalAveragePoolAsGlobal"/> does for other input sizes).
    /// </summary>
    public static byte[] ForOtherInputSizes(byte[] model, bool globalFinalPool)
    {
        var m = ModelProto.Parser.ParseFrom(model);
        var outputs = m.Graph.Output.Select(o => o.Name).ToHashSet();
        if (globalFinalPool)
            foreach (var node in m.Graph.Node.Where(n => n.OpType == "AveragePool" && n.Output.Any(outputs.Contains)))
            {
                node.OpType = "GlobalAveragePool";
                node.Attribute.Clear();
            }
        foreach (var v in m.Graph.Input.Concat(m.Graph.Output).Concat(m.Graph.ValueInfo))
            if (v.Type?.TensorType is { } t) t.Shape = null;
        return m.ToByteArray();
    }
}
