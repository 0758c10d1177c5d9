using Engine.Layers;
using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Onnx;

/// <summary>
/// <see cref="Module"/> → ONNX (opset 13, or an imported graph's newer opset) for inference: Sequential trees of imported graphs (<see cref="OnnxModel"/>, with their current weights), Linear (Gemm), Conv2d,
/// BatchNorm1d/2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten,
/// Softmax, Dropout (Identity) and residual BasicBlocks (Conv, BatchNormalization, Relu, Add). The batch dimension is symbolic ("N"). A layer without an ONNX
/// mapping fails naming its path and type, before anything is written.
/// </summary>
public static class OnnxExport
{
    /// <summary>Writes <paramref name="model"/> (in evaluation semantics) to <paramref name="path"/> atomically; <paramref name="inputShape"/> excludes the batch.</summary>
    public static void Save(Module model, int[] inputShape, string path)
    {
        var bytes = ToModelProto(model, inputShape).ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The ONNX model of <paramref name="model"/>.</summary>
    public static ModelProto ToModelProto(Module model, int[] inputShape)
    {
        var graph = new GraphProto { Name = model.TypeName };
        // imported graphs inside the model keep their ops' forms of opset 13 or newer (older ones are rewritten)
        long opset = Math.Max(13, model.NamedModules().Select(m => m.Value).OfType<OnnxModel>().Select(m => m.Opset).DefaultIfEmpty(13).Max());
        var builder = new Builder(graph);
        string output = builder.Emit(model, "input", "");
        var input = new ValueInfoProto { Name = "input", Type = TensorType(["N", .. inputShape.Select(d => (object)d)]) };
        graph.Input.Add(input);
        graph.Output.Add(new ValueInfoProto { Name = output, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        var m = new ModelProto { IrVersion = 7, ProducerName = "Engine", ProducerVersion = "0.1", Graph = graph };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    private static TypeProto TensorType(object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } };
    }

    private sealed class Builder(GraphProto graph)
    {
        private int _next;

        private string Fresh(string hint) => $"{hint}_{_next++}";

        private string Init(string name, Tensor t)
        {
            using var f = t.To(DType.Float32);
            graph.Initializer.Add(OnnxTensors.FromTensor(f, name));
            return name;
        }

        private string Node(string op, string path, string[] inputs, params AttributeProto[] attributes)
        {
            string output = Fresh(op);
            var n = new NodeProto { OpType = op, Name = path.Length > 0 ? path : output };
            n.Input.AddRange(inputs);
            n.Output.Add(output);
            n.Attribute.AddRange(attributes);
            graph.Node.Add(n);
            return output;
        }

        private static AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(values);
            return a;
        }

        private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

        private static AttributeProto Float(string name, double v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)v };

        private static AttributeProto[] Pool(Pool2dOptions o)
        {
            var s = o.Stride ?? o.Kernel;
            return [Ints("kernel_shape", o.Kernel.H, o.Kernel.W), Ints("strides", s.H, s.W),
                    Ints("pads", o.Padding.Top, o.Padding.Left, o.Padding.Bottom, o.Padding.Right), Int("ceil_mode", o.CeilMode ? 1 : 0)];
        }

        public string Emit(Module m, string x, string path)
        {
            string P(string suffix) => (path.Length > 0 ? path + "." : "") + suffix;
            switch (m)
            {
                case OnnxModel imported:
                    return imported.AppendTo(graph, x, (path.Length > 0 ? path : "model") + "/");
                case Sequential seq:
                {
                    for (int i = 0; i < seq.Layers.Count; i++) x = Emit(seq.Layers[i], x, P(i.ToString()));
                    return x;
                }
                case Linear l:
                {
                    string[] inputs = [x, Init(P("weight"), l.Weight.Data), .. l.Bias is null ? Array.Empty<string>() : [Init(P("bias"), l.Bias.Data)]];
                    return Node("Gemm", path, inputs, Int("transB", 1));
                }
                case Conv2d c:
                {
                    var o = c.Options;
                    var w = c.Weight.Data;
                    string[] inputs = [x, Init(P("weight"), w), .. c.Bias is null ? Array.Empty<string>() : [Init(P("bias"), c.Bias.Data)]];
                    return Node("Conv", path, inputs, Ints("kernel_shape", w.Shape[2], w.Shape[3]), Ints("strides", o.Stride.H, o.Stride.W),
                        Ints("pads", o.Padding.Top, o.Padding.Left, o.Padding.Bottom, o.Padding.Right), Ints("dilations", o.Dilation.H, o.Dilation.W),
                        Int("group", o.Groups));
                }
                case BatchNorm b:
                {
                    var scale = b.Weight?.Data ?? Tensor.Ones([b.NumFeatures]);
                    var bias = b.Bias?.Data ?? Tensor.Zeros([b.NumFeatures]);
                    return Node("BatchNormalization", path,
                        [x, Init(P("weight"), scale), Init(P("bias"), bias), Init(P("running_mean"), b.RunningMean), Init(P("running_var"), b.RunningVar)],
                        Float("epsilon", b.Eps), Float("momentum", 1 - b.Momentum));
                }
                case BasicBlock block:
                {
                    // relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the shortcut a 1×1 conv + bn or the identity
                    var parts = block.Children.ToDictionary(c => c.Name, c => c.Value);
                    string h = Emit(parts["bn1"], Emit(parts["conv1"], x, P("conv1")), P("bn1"));
                    h = Node("Relu", P("relu1"), [h]);
                    h = Emit(parts["bn2"], Emit(parts["conv2"], h, P("conv2")), P("bn2"));
                    string shortcut = parts.TryGetValue("downsample", out var down) ? Emit(down, x, P("downsample")) : x;
                    return Node("Relu", P("relu2"), [Node("Add", P("add"), [h, shortcut])]);
                }
                case ReLU: return Node("Relu", path, [x]);
                case LeakyReLU lr: return Node("LeakyRelu", path, [x], Float("alpha", lr.NegativeSlope));
                case Sigmoid: return Node("Sigmoid", path, [x]);
                case Tanh: return Node("Tanh", path, [x]);
                case Dropout: return Node("Identity", path, [x]);
                case MaxPool2d mp:
                    return Node("MaxPool", path, [x], [.. Pool(mp.Options), Ints("dilations", mp.Options.Dilation.H, mp.Options.Dilation.W)]);
                case AvgPool2d ap:
                    return Node("AveragePool", path, [x], [.. Pool(ap.Options), Int("count_include_pad", ap.Options.CountIncludePad ? 1 : 0)]);
                case GlobalAvgPool2d: return Node("GlobalAveragePool", path, [x]);
                case Flatten f when f.EndDim == -1: return Node("Flatten", path, [x], Int("axis", f.StartDim));
                case Softmax s: return Node("Softmax", path, [x], Int("axis", s.Axis));
                default:
                    throw new OnnxException($"OnnxExport: layer '{(path.Length > 0 ? path : "(model)")}' ({m.TypeName}) has no ONNX mapping; exportable: Sequential, OnnxModel, BasicBlock, Linear, Conv2d, BatchNorm1d/2d, ReLU, LeakyReLU, Sigmoid, Tanh, Dropout, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Softmax");
            }
        }
    }
}
