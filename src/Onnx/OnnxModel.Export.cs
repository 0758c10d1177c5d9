using Engine.Onnx.Proto;

namespace Engine.Onnx;

// An imported graph written back out by OnnxExport, with its current weights, in the opset of the file
// being written (13 or newer): nodes of older opsets are rewritten where their form changed.
public sealed partial class OnnxModel
{
    /// <summary>
    /// Appends this graph's nodes and current weights to <paramref name="target"/>, reading
    /// <paramref name="input"/>; every name it adds starts with <paramref name="prefix"/>. Returns its output's name.
    /// </summary>
    internal string AppendTo(GraphProto target, string input, string prefix)
    {
        if (Inputs.Count != 1 || Outputs.Count != 1)
            throw new OnnxException($"OnnxExport: {Source}: a graph of {Inputs.Count} inputs and {Outputs.Count} outputs cannot be one layer of a model (1 and 1 can)");
        string N(string name) => name.Length == 0 ? "" : name == Inputs[0] ? input : prefix + name;
        foreach (var t in _graph.Initializer)
        {
            var value = _parameters.TryGetValue(t.Name, out var p) ? p.Data : _constants[t.Name];
            target.Initializer.Add(OnnxTensors.FromTensor(value, N(t.Name)));
        }
        var names = target.Node.Select(n => n.Name).ToHashSet();
        foreach (var node in _graph.Node)
        {
            // a Constant that became a parameter (or was folded) is written as an initializer with its current value
            if (node.OpType == "Constant" && node.Output.Count == 1 && (_parameters.TryGetValue(node.Output[0], out var cp) ? cp.Data : _constants.GetValueOrDefault(node.Output[0])) is { } current)
            {
                target.Initializer.Add(OnnxTensors.FromTensor(current, N(node.Output[0])));
                continue;
            }
            foreach (var n in Upgrade(node, target, N))
            {
                var renamed = n.Clone();
                // node names must be unique in a graph; files do not always keep to that
                string name = prefix + (n.Name.Length > 0 ? n.Name : n.Output.FirstOrDefault() ?? n.OpType);
                for (int k = 2; !names.Add(name); k++) name = $"{prefix}{n.Name}_{k}";
                renamed.Name = name;
                renamed.Input.Clear();
                renamed.Input.AddRange(n.Input.Select(N));
                renamed.Output.Clear();
                renamed.Output.AddRange(n.Output.Select(N));
                target.Node.Add(renamed);
            }
        }
        return N(Outputs[0]);
    }

    /// <summary>Ops whose inputs or attributes changed meaning by opset 13, with the opset of the change (the forms not rewritten here).</summary>
    private static readonly Dictionary<string, long> s_formChanged = new()
    {
        ["Squeeze"] = 13, ["Unsqueeze"] = 13, ["Split"] = 13, ["ReduceSum"] = 13, ["Hardmax"] = 13, ["Pad"] = 11, ["Resize"] = 11,
        ["Upsample"] = 10, ["Slice"] = 10, ["TopK"] = 10, ["Reshape"] = 5, ["Cast"] = 6, ["Concat"] = 4,
        ["Add"] = 7, ["Sub"] = 7, ["Mul"] = 7, ["Div"] = 7, ["Pow"] = 7, ["Equal"] = 7, ["Less"] = 7, ["Greater"] = 7,
        ["And"] = 7, ["Or"] = 7, ["Xor"] = 7, ["Gemm"] = 7,
    };

    /// <summary>
    /// <paramref name="node"/> in opset-13 form, for inference: BatchNormalization without its
    /// pre-opset-9 <c>spatial</c> attribute and running-statistic outputs; Dropout as Identity; Clip's
    /// pre-opset-11 <c>min</c>/<c>max</c> attributes as inputs; pre-opset-13 Softmax, which normalises
    /// the input coerced to 2-D at <c>axis</c>, as Flatten → Softmax(axis 1) → Reshape back; and a
    /// final fixed-window AveragePool that runs as a global one (<see cref="OnnxImportOptions.FinalAveragePoolAsGlobal"/>)
    /// as GlobalAveragePool. Names are the graph's own (renamed by the caller).
    /// </summary>
    private IEnumerable<NodeProto> Upgrade(NodeProto node, GraphProto target, Func<string, string> rename)
    {
        string Describe() => $"OnnxExport: {Source}: node {OnnxNode.Describe(node)}";
        NodeProto Make(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
        {
            var n = new NodeProto { OpType = op, Name = outputs.First() };
            n.Input.AddRange(inputs);
            n.Output.AddRange(outputs);
            n.Attribute.AddRange(attributes);
            return n;
        }
        var a = new OnnxNode(node, Source, Opset);
        switch (node.OpType)
        {
            case "AveragePool" when _globalPools.Contains(node):
                return [Make("GlobalAveragePool", [node.Input[0]], [node.Output[0]])];
            case "BatchNormalization":
            {
                if (a.Int("spatial", 1) == 0) throw new OnnxException($"{Describe()}: spatial=0 has no opset-13 form");
                var n = Make("BatchNormalization", node.Input, [node.Output[0]], [.. node.Attribute.Where(x => x.Name is "epsilon" or "momentum")]);
                return [n];
            }
            case "Dropout":
                if (node.Output.Count > 1 && node.Output[1].Length > 0) throw new OnnxException($"{Describe()}: the mask output has no inference form");
                return [Make("Identity", [node.Input[0]], [node.Output[0]])];
            case "Clip" when Opset < 11:
            {
                string Bound(string which)
                {
                    if (!a.Has(which)) return "";
                    string name = node.Output[0] + "_" + which;
                    using var v = Tensor.Scalar(a.Float(which, 0));
                    target.Initializer.Add(OnnxTensors.FromTensor(v, rename(name)));
                    return name;
                }
                return [Make("Clip", [node.Input[0], Bound("min"), Bound("max")], [node.Output[0]])];
            }
            case "Softmax" or "LogSoftmax" when Opset < 13:
            {
                string x = node.Input[0], y = node.Output[0];
                return
                [
                    Make("Shape", [x], [y + "_shape"]),
                    Make("Flatten", [x], [y + "_2d"], new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a.Int("axis", 1) }),
                    Make(node.OpType, [y + "_2d"], [y + "_2d_out"], new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 }),
                    Make("Reshape", [y + "_2d_out", y + "_shape"], [y]),
                ];
            }
            default:
                if (s_formChanged.TryGetValue(node.OpType, out long since) && Opset < since)
                    throw new OnnxException($"{Describe()}: {node.OpType} of opset {Opset} changed form at opset {since}; writing it in the newer form is not supported");
                return [node];
        }
    }
}
