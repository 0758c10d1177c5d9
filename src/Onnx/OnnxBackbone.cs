using Engine.Onnx.Proto;

namespace Engine.Onnx;

/// <summary>
/// Finds where an image classifier's features enter its final classifier, and cuts the graph
/// there (<see cref="OnnxModel.LoadBackbone"/>).
/// </summary>
public static class OnnxBackbone
{
    /// <summary>Ops between the classifier and the graph's output that do not change what it computes per class.</summary>
    private static readonly HashSet<string> s_afterClassifier =
        ["Softmax", "LogSoftmax", "Sigmoid", "Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "ArgMax", "TopK", "ReduceMax", "Cast"];

    /// <summary>Ops that only change the shape of the features before the classifier.</summary>
    private static readonly HashSet<string> s_reshapes = ["Flatten", "Reshape", "Squeeze", "Identity", "Dropout"];

    /// <summary>
    /// The tensor that holds the features of <paramref name="graph"/>'s first output, and the
    /// classifier node that reads it (null when the output is itself the features).
    /// </summary>
    /// <remarks>
    /// From the output, back through Softmax, Flatten, Reshape, Dropout, ArgMax, TopK and the like, to the classifier:
    /// a Gemm, a MatMul by a constant (with or without an Add of a constant bias), or a 1×1 Conv that
    /// feeds a global average pool directly or through a Relu (SqueezeNet's classifier). The features
    /// are the classifier's input, before any Flatten or Reshape. Anything else (a pool, a
    /// convolution with its batch norm): there is no classifier and the output is the features
    /// (the pretrained ResNet18 of this project ends at its average pool).
    /// </remarks>
    public static (string Features, NodeProto? Classifier) FindFeatures(GraphProto graph)
    {
        var producer = Producers(graph);
        var constants = graph.Initializer.Select(t => t.Name).Concat(graph.Node.Where(n => n.OpType == "Constant").SelectMany(n => n.Output)).ToHashSet();
        string output = graph.Output[0].Name, t = output;
        NodeProto? node = producer.GetValueOrDefault(t);
        while (node is not null && s_afterClassifier.Contains(node.OpType) && node.Input.Count > 0)
            node = producer.GetValueOrDefault(t = node.Input[0]);
        NodeProto? classifier = null;
        if (node is { OpType: "Gemm" } && node.Input.Count >= 2) classifier = node;
        else if (node is { OpType: "MatMul" } && node.Input.Count == 2 && constants.Contains(node.Input[1])) classifier = node;
        else if (node is { OpType: "Add" } && node.Input.Count == 2)
        {
            // x·W + b written as MatMul then Add
            for (int k = 0; k < 2 && classifier is null; k++)
                if (constants.Contains(node.Input[1 - k]) && producer.GetValueOrDefault(node.Input[k]) is { OpType: "MatMul" } mm && mm.Input.Count == 2 && constants.Contains(mm.Input[1]))
                    classifier = mm;
        }
        else if (node is { OpType: "GlobalAveragePool" or "ReduceMean" } && node.Input.Count > 0)
        {
            var before = producer.GetValueOrDefault(node.Input[0]);
            if (before is { OpType: "Relu" }) before = producer.GetValueOrDefault(before.Input[0]);
            if (before is { OpType: "Conv" } && IsPointwise(before, graph)) classifier = before;
        }
        if (classifier is null) return (output, null);
        string features = classifier.Input[0];
        while (producer.GetValueOrDefault(features) is { } p && s_reshapes.Contains(p.OpType) && p.Input.Count > 0) features = p.Input[0];
        return (features, classifier);
    }

    private static bool IsPointwise(NodeProto conv, GraphProto graph)
    {
        var k = conv.Attribute.FirstOrDefault(a => a.Name == "kernel_shape");
        if (k is not null) return k.Ints.All(v => v == 1);
        var w = graph.Initializer.FirstOrDefault(t => conv.Input.Count > 1 && t.Name == conv.Input[1]);
        return w is not null && w.Dims.Count == 4 && w.Dims[2] == 1 && w.Dims[3] == 1;
    }

    private static Dictionary<string, NodeProto> Producers(GraphProto graph)
    {
        var producer = new Dictionary<string, NodeProto>();
        foreach (var n in graph.Node)
            foreach (var o in n.Output)
                if (o.Length > 0) producer.TryAdd(o, n);
        return producer;
    }

    /// <summary>
    /// Cuts <paramref name="graph"/> in place so that its one output is the features (at
    /// <paramref name="cut"/>, a node or tensor name, or found by <see cref="FindFeatures"/>), keeping
    /// only the nodes and initializers that compute them. Returns what was done, or null when nothing was cut.
    /// </summary>
    internal static string? CutGraph(string source, GraphProto graph, string? cut)
    {
        var producer = Producers(graph);
        string features;
        string? why;
        if (cut is not null)
        {
            var named = graph.Node.FirstOrDefault(n => n.Name == cut);
            features = named is not null && named.Output.Count > 0 ? named.Output[0]
                : producer.ContainsKey(cut) ? cut
                : throw new OnnxException($"{source}: cut '{cut}': no node or tensor of that name; the last nodes are " +
                    string.Join(", ", graph.Node.TakeLast(8).Select(n => $"{n.OpType} '{(n.Name.Length > 0 ? n.Name : n.Output.FirstOrDefault())}'")));
            why = $"cut at '{cut}' (tensor '{features}')";
        }
        else
        {
            var (f, classifier) = FindFeatures(graph);
            if (classifier is null) return null;
            features = f;
            why = $"cut before the classifier {classifier.OpType} '{(classifier.Name.Length > 0 ? classifier.Name : classifier.Output.FirstOrDefault())}' (features: tensor '{features}')";
        }
        if (graph.Output.Count == 1 && graph.Output[0].Name == features) return null;

        // the nodes the features need, found backwards from them
        var needed = new HashSet<string> { features };
        var keep = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        for (int i = graph.Node.Count - 1; i >= 0; i--)
        {
            var n = graph.Node[i];
            if (!n.Output.Any(needed.Contains)) continue;
            keep.Add(n);
            foreach (var input in n.Input) if (input.Length > 0) needed.Add(input);
        }
        int removed = graph.Node.Count - keep.Count;
        var nodes = graph.Node.Where(keep.Contains).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        var initializers = graph.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        var inputs = graph.Input.Where(v => needed.Contains(v.Name)).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        var info = graph.ValueInfo.FirstOrDefault(v => v.Name == features) ?? new ValueInfoProto { Name = features };
        graph.Output.Clear();
        graph.Output.Add(info);
        return $"{why}; {removed} node(s) after it dropped";
    }
}
