using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Tests;

/// <summary>Edits of model files for the oracle: what our importer does by option, written into a copy ONNX Runtime can run.</summary>
internal static class OnnxEdit
{
    /// <summary>
    /// The model with its declared input and output shapes dropped (they fix the batch at 1) and, when
    /// <paramref name="globalFinalPool"/>, each AveragePool that produces a graph output replaced by
    /// GlobalAveragePool.
    /// </summary>
    public static byte[] ForOracle(byte[] bytes, bool globalFinalPool)
    {
        var model = ModelProto.Parser.ParseFrom(bytes);
        var outputs = model.Graph.Output.Select(o => o.Name).ToHashSet();
        if (globalFinalPool)
            foreach (var node in model.Graph.Node.Where(n => n.OpType == "AveragePool" && n.Output.Any(outputs.Contains)))
            {
                node.OpType = "GlobalAveragePool";
                node.Attribute.Clear();
            }
        foreach (var v in model.Graph.Input.Concat(model.Graph.Output).Concat(model.Graph.ValueInfo))
            if (v.Type?.TensorType is { } t) t.Shape = null;
        return model.ToByteArray();
    }
}
