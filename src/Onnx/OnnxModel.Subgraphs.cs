using Engine.Onnx.Proto;

namespace Engine.Onnx;

// The subgraphs of If, Loop and Scan: prepared once at load (their nodes and initializers), run in a
// scope that sees every value of the graphs around them.
public sealed partial class OnnxModel
{
    /// <summary>A body graph: its nodes to run, its initializers (constants: weights inside a body do not train), its inputs and outputs.</summary>
    internal sealed class Subgraph(GraphProto graph, List<OnnxNode> plan, Dictionary<string, Tensor> constants)
    {
        public GraphProto Graph => graph;
        public IReadOnlyList<OnnxNode> Plan => plan;
        public IReadOnlyDictionary<string, Tensor> Constants => constants;
        public IReadOnlyList<string> Inputs { get; } = [.. graph.Input.Select(i => i.Name)];
        public IReadOnlyList<string> Outputs { get; } = [.. graph.Output.Select(o => o.Name)];
    }

    private readonly Dictionary<GraphProto, Subgraph> _subgraphs = new(ReferenceEqualityComparer.Instance);

    /// <summary>Every graph attribute below <paramref name="graph"/>'s nodes, at any depth, made ready to run.</summary>
    private void PrepareSubgraphs(GraphProto graph)
    {
        foreach (var node in graph.Node)
            foreach (var a in node.Attribute)
                foreach (var g in a.G is null ? a.Graphs : a.Graphs.Prepend(a.G))
                {
                    if (_subgraphs.ContainsKey(g)) continue;
                    var constants = new Dictionary<string, Tensor>();
                    foreach (var t in g.Initializer)
                        constants[t.Name] = TensorScope.Escape(OnnxTensors.ToTensor(t, $"{Source}: node {OnnxNode.Describe(node)}: subgraph initializer '{t.Name}'"));
                    _subgraphs[g] = new Subgraph(g, [.. g.Node.Select(n => new OnnxNode(n, Source, Opset))], constants);
                    PrepareSubgraphs(g);
                }
    }

    /// <summary>The prepared form of a node's graph attribute.</summary>
    internal Subgraph SubgraphOf(OnnxNode node, string attribute)
    {
        var g = node.Attribute(attribute)?.G ?? throw node.Error($"attribute '{attribute}' (a graph) is required");
        return _subgraphs.TryGetValue(g, out var s) ? s : throw node.Error($"subgraph '{attribute}' was not prepared");
    }

    /// <summary>Runs <paramref name="subgraph"/> on <paramref name="inputs"/>, seeing <paramref name="scope"/>; returns its outputs in order.</summary>
    internal Variable[] RunSubgraph(OnnxNode owner, Subgraph subgraph, IReadOnlyDictionary<string, Variable> scope, IReadOnlyList<Variable?> inputs)
    {
        if (inputs.Count != subgraph.Inputs.Count)
            throw owner.Error($"the subgraph takes {subgraph.Inputs.Count} input(s) but {inputs.Count} were given");
        var values = new Dictionary<string, Variable>(scope);
        foreach (var (name, t) in subgraph.Constants) values[name] = new Variable(t);
        for (int i = 0; i < inputs.Count; i++)
            if (inputs[i] is { } v) values[subgraph.Inputs[i]] = v;
        RunNodes(subgraph.Plan, values, null);
        return [.. subgraph.Outputs.Select(o => values.TryGetValue(o, out var v) ? v : throw owner.Error($"the subgraph never produces its output '{o}'"))];
    }
}
