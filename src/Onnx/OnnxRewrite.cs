using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Onnx;

/// <summary>Rewrites of model files, so that other runtimes can run what <see cref="OnnxModel"/> runs by option.</summary>
public static class OnnxRewrite
{
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
