using Engine.Onnx;
using Engine.Onnx.Proto;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Engine.Compare;

/// <summary>
/// An ONNX graph run node by node with libtorch's functional ops: the baseline's copy of exactly the
/// network <see cref="OnnxModel"/> imports (the CNTK ResNet18's asymmetric pads included), with the
/// same initial values. Parameters that are trainable in our model are libtorch leaf tensors with
/// requires_grad; everything else (frozen weights, running statistics) is a plain tensor. Batch
/// normalisation runs on running statistics (the fine-tuning setting: the backbone is frozen).
/// Only the ops the pretrained ResNet18 uses are here.
/// </summary>
internal sealed class TorchOnnx : IDisposable
{
    private readonly GraphProto _graph;
    private readonly Dictionary<string, TT> _values = [];

    /// <summary>Our parameter and libtorch's copy, by initializer name, for the gradient check.</summary>
    public IReadOnlyList<(string Name, Parameter Ours, TT Theirs)> Trainable { get; }

    public TorchOnnx(byte[] modelBytes, OnnxModel ours)
    {
        _graph = ModelProto.Parser.ParseFrom(OnnxRewrite.ForOtherInputSizes(modelBytes, globalFinalPool: true)).Graph;
        var trainable = new List<(string, Parameter, TT)>();
        foreach (var init in _graph.Initializer)
        {
            using var value = OnnxTensors.ToTensor(init, init.Name);
            var t = torch.tensor(value.ToArray<float>(), [.. value.Shape.ToArray().Select(d => (long)d)]);
            Parameter? p = null;
            try { p = ours.ParameterOf(init.Name); } catch (KeyNotFoundException) { }
            if (p is { RequiresGrad: true })
            {
                var leaf = torch.nn.Parameter(t, requires_grad: true);
                trainable.Add((init.Name, p, leaf));
                _values[init.Name] = leaf;
            }
            else _values[init.Name] = t;
        }
        Trainable = trainable;
    }

    public IEnumerable<TT> Parameters => Trainable.Select(t => t.Theirs);

    /// <summary>Runs the graph on <paramref name="x"/>; intermediates belong to the caller's dispose scope.</summary>
    public TT Forward(TT x)
    {
        var values = new Dictionary<string, TT>(_values) { [_graph.Input.First(i => !_values.ContainsKey(i.Name)).Name] = x };
        foreach (var node in _graph.Node)
        {
            TT In(int i) => values[node.Input[i]];
            var a = node.Attribute.ToDictionary(t => t.Name);
            long[] Ints(string name, params long[] fallback) => a.TryGetValue(name, out var v) ? [.. v.Ints] : fallback;
            if (a.TryGetValue("auto_pad", out var ap) && ap.S.ToStringUtf8() is not ("" or "NOTSET"))
                throw new NotSupportedException($"{node.Name}: auto_pad {ap.S.ToStringUtf8()}");
            TT y = node.OpType switch
            {
                "Conv" => Conv(In(0), In(1), node.Input.Count > 2 ? In(2) : null, Ints("strides", 1, 1), Ints("pads", 0, 0, 0, 0), Ints("dilations", 1, 1), a.TryGetValue("group", out var gr) ? gr.I : 1),
                "BatchNormalization" => torch.nn.functional.batch_norm(In(0), In(3), In(4), In(1), In(2), training: false, eps: a.TryGetValue("epsilon", out var e) ? e.F : 1e-5),
                "Relu" => torch.nn.functional.relu(In(0)),
                "Add" => In(0) + In(1),
                "MaxPool" => MaxPool(In(0), Ints("kernel_shape"), Ints("strides", 1, 1), Ints("pads", 0, 0, 0, 0), Ints("dilations", 1, 1)),
                "GlobalAveragePool" => torch.nn.functional.adaptive_avg_pool2d(In(0), 1),
                _ => throw new NotSupportedException($"{node.OpType} ({node.Name}) is not in the libtorch baseline"),
            };
            values[node.Output[0]] = y;
        }
        return values[_graph.Output[0].Name];
    }

    /// <summary>ONNX pads are [top, left, bottom, right]; libtorch's F.pad takes (left, right, top, bottom).</summary>
    private static bool Symmetric(long[] pads) => pads[0] == pads[2] && pads[1] == pads[3];

    private static TT Conv(TT x, TT w, TT? b, long[] strides, long[] pads, long[] dilations, long groups)
    {
        if (Symmetric(pads))
            return torch.nn.functional.conv2d(x, w, b, strides: strides, padding: [pads[0], pads[1]], dilation: dilations, groups: groups);
        var padded = torch.nn.functional.pad(x, [pads[1], pads[3], pads[0], pads[2]]);
        return torch.nn.functional.conv2d(padded, w, b, strides: strides, padding: [0, 0], dilation: dilations, groups: groups);
    }

    private static TT MaxPool(TT x, long[] kernel, long[] strides, long[] pads, long[] dilations)
    {
        if (Symmetric(pads))
            return torch.nn.functional.max_pool2d(x, kernel, strides, [pads[0], pads[1]], dilations);
        var padded = torch.nn.functional.pad(x, [pads[1], pads[3], pads[0], pads[2]], value: double.NegativeInfinity);
        return torch.nn.functional.max_pool2d(padded, kernel, strides, [0, 0], dilations);
    }

    public void Dispose()
    {
        foreach (var t in _values.Values) t.Dispose();
    }
}
