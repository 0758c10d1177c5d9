using System.Text;

namespace Engine;

public partial class Variable
{
    /// <summary>
    /// The graph behind this variable as a Mermaid flowchart (the seed document's notation): one node
    /// per op with its result's shape and dtype, one per leaf (parameters by name), and edges in the
    /// direction the forward pass ran; gradients flow back along them.
    /// </summary>
    public string ToMermaid() => Dump(mermaid: true);

    /// <summary>The same graph in Graphviz DOT.</summary>
    public string ToDot() => Dump(mermaid: false);

    private string Dump(bool mermaid)
    {
        var ids = new Dictionary<object, string>(ReferenceEqualityComparer.Instance);
        var sb = new StringBuilder(mermaid ? "flowchart BT\n" : "digraph G {\n  rankdir=BT;\n");
        string Id(object o) => ids.TryGetValue(o, out var id) ? id : ids[o] = $"n{ids.Count}";
        void Node(object o, string label, bool leaf)
        {
            string id = Id(o);
            if (mermaid) sb.Append(leaf ? $"  {id}([\"{label}\"])\n" : $"  {id}[\"{label}\"]\n");
            else sb.Append($"  {id} [label=\"{label}\", shape={(leaf ? "ellipse" : "box")}];\n");
        }
        void Edge(object from, object to) => sb.Append(mermaid ? $"  {Id(from)} --> {Id(to)}\n" : $"  {Id(from)} -> {Id(to)};\n");
        string Describe(ReadOnlySpan<int> shape, DType dtype) => $"{Errors.Shape(shape)} {dtype.Name()}";

        if (GradFn is null) Node(this, $"{Name ?? "leaf"} {Describe(Shape, DType)}", leaf: true);
        foreach (var f in Autograd.TopologicalOrder([this]))
        {
            Node(f, $"{f.Name} {Describe(f.ResultShape, f.ResultDType)}", leaf: false);
            foreach (var input in f.Inputs)
            {
                if (input.GradFn is { } producer) Edge(producer, f);
                else
                {
                    if (!ids.ContainsKey(input))
                        Node(input, $"{input.Name ?? (input.RequiresGrad ? "input" : "constant")} {Describe(input.Shape, input.DType)}", leaf: true);
                    Edge(input, f);
                }
            }
        }
        if (!mermaid) sb.Append("}\n");
        return sb.ToString();
    }
}
