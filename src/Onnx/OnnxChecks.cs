using Engine.Onnx.Proto;
using AttrType = Engine.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Engine.Onnx;

/// <summary>
/// Load-time checks that a graph is well formed, so that a broken or crafted file is refused with
/// one <see cref="OnnxException"/> listing its problems instead of failing (or computing) later:
/// every value assigned once and defined before it is read, graph outputs produced, attribute names
/// unique and of the type the op reads, input counts per op, and sizes (kernels, strides,
/// dilations, pads, groups) inside the limits below.
/// </summary>
/// <remarks>
/// Limits: kernel sides, strides and dilations 1 to 2²⁴, pads 0 to 2²⁴, groups and integer
/// attributes within int32. Memory a valid graph needs at run time is checked where it is
/// allocated (the device's pool refuses what it cannot hold).
/// </remarks>
internal static class OnnxChecks
{
    /// <summary>The largest kernel side, stride, dilation or pad a graph may declare.</summary>
    public const long MaxExtent = 1 << 24;

    /// <summary>Per op: the fewest and most inputs (by opset), and the attributes it reads with their types.</summary>
    private sealed record Schema(Func<long, (int Min, int Max)> Inputs, IReadOnlyDictionary<string, AttrType> Attributes);

    private static readonly Dictionary<string, AttrType> s_poolAttributes = new()
    {
        ["kernel_shape"] = AttrType.Ints, ["strides"] = AttrType.Ints, ["dilations"] = AttrType.Ints, ["pads"] = AttrType.Ints,
        ["auto_pad"] = AttrType.String, ["ceil_mode"] = AttrType.Int,
    };

    private static Schema Fixed(int min, int max, params (string Name, AttrType Type)[] attributes) =>
        new(_ => (min, max), attributes.ToDictionary(a => a.Name, a => a.Type));

    private static readonly Dictionary<string, Schema> s_schemas = new()
    {
        ["Identity"] = Fixed(1, 1), ["Relu"] = Fixed(1, 1), ["Sigmoid"] = Fixed(1, 1), ["Tanh"] = Fixed(1, 1),
        ["LeakyRelu"] = Fixed(1, 1, ("alpha", AttrType.Float)),
        ["Constant"] = Fixed(0, 0, ("value", AttrType.Tensor)),
        ["Clip"] = new(opset => opset < 11 ? (1, 1) : (1, 3), new Dictionary<string, AttrType> { ["min"] = AttrType.Float, ["max"] = AttrType.Float }),
        ["Add"] = Fixed(2, 2), ["Sub"] = Fixed(2, 2), ["Mul"] = Fixed(2, 2), ["Div"] = Fixed(2, 2), ["MatMul"] = Fixed(2, 2),
        ["Gemm"] = Fixed(2, 3, ("transA", AttrType.Int), ("transB", AttrType.Int), ("alpha", AttrType.Float), ("beta", AttrType.Float)),
        ["Conv"] = new(_ => (2, 3), new Dictionary<string, AttrType>(s_poolAttributes) { ["group"] = AttrType.Int }),
        ["BatchNormalization"] = Fixed(5, 5, ("epsilon", AttrType.Float), ("momentum", AttrType.Float), ("spatial", AttrType.Int)),
        ["MaxPool"] = new(_ => (1, 1), new Dictionary<string, AttrType>(s_poolAttributes) { ["storage_order"] = AttrType.Int }),
        ["AveragePool"] = new(_ => (1, 1), new Dictionary<string, AttrType>(s_poolAttributes) { ["count_include_pad"] = AttrType.Int }),
        ["GlobalAveragePool"] = Fixed(1, 1),
        ["Flatten"] = Fixed(1, 1, ("axis", AttrType.Int)),
        ["Reshape"] = new(opset => opset < 5 ? (1, 1) : (2, 2), new Dictionary<string, AttrType> { ["shape"] = AttrType.Ints, ["allowzero"] = AttrType.Int }),
        ["Transpose"] = Fixed(1, 1, ("perm", AttrType.Ints)),
        ["Concat"] = new(_ => (1, int.MaxValue), new Dictionary<string, AttrType> { ["axis"] = AttrType.Int }),
        ["Softmax"] = Fixed(1, 1, ("axis", AttrType.Int)), ["LogSoftmax"] = Fixed(1, 1, ("axis", AttrType.Int)),
        ["Dropout"] = new(opset => opset < 12 ? (1, 1) : (1, 3), new Dictionary<string, AttrType> { ["ratio"] = AttrType.Float, ["seed"] = AttrType.Int, ["is_test"] = AttrType.Int }),
    };

    /// <summary>Throws one <see cref="OnnxException"/> naming <paramref name="path"/> and every problem found in <paramref name="model"/>'s graph.</summary>
    public static void Validate(string path, ModelProto model)
    {
        var graph = model.Graph;
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        var problems = new List<string>();
        var defined = new HashSet<string>();
        foreach (var t in graph.Initializer)
            if (!defined.Add(t.Name)) problems.Add($"initializer '{t.Name}' is defined twice");
        var initializers = new HashSet<string>(defined);
        foreach (var v in graph.Input)
            if (!initializers.Contains(v.Name) && !defined.Add(v.Name)) problems.Add($"graph input '{v.Name}' is declared twice");
        foreach (var node in graph.Node)
        {
            string where = Describe(node);
            foreach (var input in node.Input)
                if (input.Length > 0 && !defined.Contains(input))
                    problems.Add($"node {where} reads '{input}', which no graph input, initializer or earlier node defines");
            var names = new HashSet<string>();
            foreach (var a in node.Attribute)
                if (!names.Add(a.Name)) problems.Add($"node {where} has two attributes named '{a.Name}'");
            if (node.Domain is "" or "ai.onnx" && s_schemas.TryGetValue(node.OpType, out var schema))
                CheckNode(node, where, schema, opset, problems);
            foreach (var output in node.Output)
                if (output.Length > 0 && !defined.Add(output))
                    problems.Add($"node {where} assigns '{output}', which is already defined (every value is assigned once)");
        }
        foreach (var o in graph.Output)
            if (!defined.Contains(o.Name)) problems.Add($"graph output '{o.Name}' is never produced");
        if (problems.Count == 0) return;
        const int shown = 12;
        throw new OnnxException($"{path}: invalid model: {string.Join("; ", problems.Take(shown))}" +
            (problems.Count > shown ? $"; and {problems.Count - shown} more problem(s)" : ""));
    }

    private static void CheckNode(NodeProto node, string where, Schema schema, long opset, List<string> problems)
    {
        var (min, max) = schema.Inputs(opset);
        int given = node.Input.Count;
        if (given < min || given > max)
            problems.Add($"node {where} has {given} input(s); {node.OpType} (opset {opset}) takes {(min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}")}");
        else
            for (int i = 0; i < min; i++)
                if (node.Input[i].Length == 0) problems.Add($"node {where}: required input {i} is empty");
        if (node.Output.Count == 0 || node.Output[0].Length == 0) problems.Add($"node {where} has no output");
        foreach (var a in node.Attribute)
        {
            if (!schema.Attributes.TryGetValue(a.Name, out var type)) continue;
            // files from before IR version 4 may leave the type unset; the value fields then decide
            if (a.Type != AttrType.Undefined && a.Type != type)
            {
                problems.Add($"node {where}: attribute '{a.Name}' is {a.Type}, not {type}");
                continue;
            }
            switch (a.Name)
            {
                case "kernel_shape" or "strides" or "dilations":
                    if (a.Ints.Any(v => v < 1 || v > MaxExtent)) problems.Add($"node {where}: {a.Name} [{string.Join(", ", a.Ints)}] must lie in 1 to {MaxExtent}");
                    break;
                case "pads":
                    if (a.Ints.Any(v => v < 0 || v > MaxExtent)) problems.Add($"node {where}: pads [{string.Join(", ", a.Ints)}] must lie in 0 to {MaxExtent}");
                    break;
                case "auto_pad":
                    if (a.S.ToStringUtf8() is not ("NOTSET" or "" or "SAME_UPPER" or "SAME_LOWER" or "VALID")) problems.Add($"node {where}: auto_pad '{a.S.ToStringUtf8()}' is none of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
                    break;
                case "group":
                    if (a.I < 1 || a.I > int.MaxValue) problems.Add($"node {where}: group {a.I} must be at least 1");
                    break;
                case "perm" or "shape":
                    if (a.Ints.Any(v => v < int.MinValue || v > int.MaxValue)) problems.Add($"node {where}: {a.Name} [{string.Join(", ", a.Ints)}] holds values beyond 32 bits");
                    break;
                default:
                    if (type == AttrType.Int && (a.I < int.MinValue || a.I > int.MaxValue)) problems.Add($"node {where}: attribute '{a.Name}' = {a.I} is beyond 32 bits");
                    break;
            }
        }
    }

    private static string Describe(NodeProto node) => OnnxNode.Describe(node);
}
