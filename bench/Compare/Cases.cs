using System.Numerics.Tensors;
using Engine.Layers;
using Engine.Optim;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Engine.Compare;

/// <summary>
/// The cases of issue 2 §6 and issue 5's training steps. Every case makes its inputs once, with our generator, and gives
/// libtorch a copy of exactly the same numbers (cloned, so libtorch owns aligned memory), so the
/// two results can be compared element by element.
/// </summary>
internal static class Cases
{
    public static readonly IReadOnlyList<Case> All =
    [
        Sgemm(64, 64, 64),
        Sgemm(256, 256, 256),
        Sgemm(512, 512, 512),
        Sgemm(1024, 1024, 1024),
        Sgemm(2048, 2048, 2048),
        Sgemm(64, 784, 128, "sgemm_64x784x128"),
        new("conv2d_fwd_n8_c64_56", () => ConvForward("conv2d_fwd_n8_c64_56", 8, 64, 64, 56)),
        new("conv2d_fwdbwd_n8_c64_56", () => ConvForwardBackward("conv2d_fwdbwd_n8_c64_56", 8, 64, 64, 56)),
        new("conv2d_fwd_n64_c1to32_28", () => ConvForward("conv2d_fwd_n64_c1to32_28", 64, 1, 32, 28)),
        new("softmax_4096x1000", () => Softmax("softmax_4096x1000", 4096, 1000)),
        new("add_16m", () => Add("add_16m", N16M)),
        new("sum_16m", () => Sum("sum_16m", N16M)),
        new("mlp_step_b128", () => TrainingStep("mlp_step_b128", () => Models.Mlp(), TorchMlp, 128, MlpLayers)),
        new("lenet_step_b128", () => TrainingStep("lenet_step_b128", () => Models.LeNet(), TorchLeNet, 128, LeNetLayers)),
        new("resnet18_infer_64_b32", () => ResNet18Inference("resnet18_infer_64_b32", 32, 64)),
        new("resnet18_infer_224_b1", () => ResNet18Inference("resnet18_infer_224_b1", 1, 224)),
        new("resnet18_finetune_64_b32", () => ResNet18Finetune("resnet18_finetune_64_b32", 32, 64)),
        new("minilm_infer_b8_t128", () => MiniLMInference("minilm_infer_b8_t128", 8, 128)),
    ];

    /// <summary>
    /// The same rows on tiny inputs, run before anything is timed so that the methods every case
    /// shares (tensor layer, pool, TorchSharp wrappers) reach the JIT's optimised tier first.
    /// </summary>
    public static IEnumerable<Func<CaseSetup>> WarmUpSetups() =>
    [
        () => Sgemm(32, 48, 40, "w").Create(),
        () => ConvForward("w", 2, 4, 8, 10),
        () => ConvForwardBackward("w", 2, 4, 8, 10),
        () => Softmax("w", 16, 100),
        () => Add("w", 4096),
        () => Sum("w", 4096),
        () => TrainingStep("w", () => Models.Mlp(), TorchMlp, 4, MlpLayers),
        () => TrainingStep("w", () => Models.LeNet(), TorchLeNet, 2, LeNetLayers),
    ];

    private const int N16M = 16 * 1024 * 1024;
    private static readonly Conv2dOptions Pad1 = new() { Padding = 1 };
    private static readonly long[] Ones2 = [1, 1];

    /// <summary>Keeps TensorPrimitives.Sum's result observable.</summary>
    public static volatile float Sink;

    // ---- helpers ------------------------------------------------------------------------------

    /// <summary>A libtorch tensor with the same shape and values as <paramref name="t"/>, in memory libtorch allocated.</summary>
    private static TT Torch(Tensor t, bool requiresGrad = false)
    {
        var shape = t.Shape.ToArray().Select(d => (long)d).ToArray();
        using var wrapped = torch.tensor(t.ToArray<float>(), shape);
        var owned = wrapped.clone();
        if (requiresGrad) owned.requires_grad = true;
        return owned;
    }

    /// <summary>
    /// Some TorchSharp versions return <c>this</c> from in-place ops, others a second handle to the
    /// same tensor: release the second kind, never the operand itself.
    /// </summary>
    private static void Release(TT result, TT self)
    {
        if (!ReferenceEquals(result, self)) result.Dispose();
    }

    private static float[] Values(TT t)
    {
        var c = t.contiguous();
        try { return c.data<float>().ToArray(); }
        finally { Release(c, t); }
    }

    /// <summary>max |ours − theirs| / max |theirs| (NaN anywhere, or a length mismatch, gives +∞).</summary>
    public static double RelDiff(ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs)
    {
        if (ours.Length != theirs.Length) return double.PositiveInfinity;
        double diff = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double o = ours[i], t = theirs[i];
            if (double.IsNaN(o) || double.IsNaN(t)) return double.PositiveInfinity;
            diff = Math.Max(diff, Math.Abs(o - t));
            scale = Math.Max(scale, Math.Abs(t));
        }
        return scale > 0 ? diff / scale : diff;
    }

    private static double RelDiff(Tensor ours, TT theirs) => RelDiff(ours.ToArray<float>(), Values(theirs));

    // ---- SGEMM ----------------------------------------------------------------------------------

    private static Case Sgemm(int m, int k, int n, string? name = null)
    {
        name ??= $"sgemm_{m}";
        return new Case(name, () =>
        {
            var a = Tensor.RandN(m, k);
            var b = Tensor.RandN(k, n);
            var ta = Torch(a);
            var tb = Torch(b);
            var tc = torch.empty(m, n);
            var pair = new Pair
            {
                Name = name,
                Unit = "GFLOP/s",
                WorkPerCall = 2.0 * m * n * k,
                Mode = "ours: a.MatMul(b), fresh pooled result, disposed; libtorch: c.addmm_(a, b, beta 0) into a preallocated c",
                Ours = () =>
                {
                    using var c = a.MatMul(b);
                },
                Theirs = () => Release(tc.addmm_(ta, tb, beta: 0f, alpha: 1f), tc),
                Check = () =>
                {
                    using var c = a.MatMul(b);
                    Release(tc.addmm_(ta, tb, beta: 0f, alpha: 1f), tc);
                    return RelDiff(c, tc);
                },
            };
            return new CaseSetup([pair], a, b, ta, tb, tc);
        });
    }

    // ---- conv2d ---------------------------------------------------------------------------------

    private static double ConvFlops(int n, int c, int k, int hw) => 2.0 * n * k * c * 9 * hw * hw;

    private static CaseSetup ConvForward(string name, int n, int c, int k, int hw)
    {
        var x = Tensor.RandN(n, c, hw, hw);
        var w = Tensor.RandN([k, c, 3, 3], 0, 1 / Math.Sqrt(9.0 * c));
        var tx = Torch(x);
        var tw = Torch(w);
        var pair = new Pair
        {
            Name = name,
            Unit = "GFLOP/s",
            WorkPerCall = ConvFlops(n, c, k, hw),
            Mode = "3x3, pad 1, no bias; fresh output on both sides (ours pooled), disposed",
            Ours = () =>
            {
                using var y = x.Conv2d(w, null, Pad1);
            },
            Theirs = () =>
            {
                using var y = torch.nn.functional.conv2d(tx, tw, null, strides: Ones2, padding: Ones2, dilation: null, groups: 1);
            },
            Check = () =>
            {
                using var y = x.Conv2d(w, null, Pad1);
                using var ty = torch.nn.functional.conv2d(tx, tw, null, strides: Ones2, padding: Ones2, dilation: null, groups: 1);
                return RelDiff(y, ty);
            },
        };
        return new CaseSetup([pair], x, w, tx, tw);
    }

    private static CaseSetup ConvForwardBackward(string name, int n, int c, int k, int hw)
    {
        var x = Tensor.RandN(n, c, hw, hw);
        var w = Tensor.RandN([k, c, 3, 3], 0, 1 / Math.Sqrt(9.0 * c));
        var dy = Tensor.RandN(n, k, hw, hw);
        int[] xShape = [n, c, hw, hw], wShape = [k, c, 3, 3];
        var tx = Torch(x, requiresGrad: true);
        var tw = Torch(w, requiresGrad: true);
        var tdy = Torch(dy);

        // libtorch through autograd, as a training step would: forward with requires_grad inputs,
        // then both gradients from the given ∂L/∂y (torch.autograd.grad returns fresh gradients
        // rather than accumulating into .grad, so no extra add is timed).
        TT[] TorchStep(out TT y)
        {
            y = torch.nn.functional.conv2d(tx, tw, null, strides: Ones2, padding: Ones2, dilation: null, groups: 1);
            return [.. torch.autograd.grad([y], [tx, tw], [tdy])];
        }

        var pair = new Pair
        {
            Name = name,
            Unit = "GFLOP/s",
            WorkPerCall = 3 * ConvFlops(n, c, k, hw),
            InferenceMode = false,
            Mode = "forward + grad input + grad weight; ours: Conv2d, Conv2dBackwardInput, Conv2dBackwardWeight; libtorch: autograd (conv2d then autograd.grad); all outputs fresh, disposed",
            Ours = () =>
            {
                using var y = x.Conv2d(w, null, Pad1);
                using var dx = Tensor.Conv2dBackwardInput(dy, w, xShape, Pad1);
                using var dw = Tensor.Conv2dBackwardWeight(x, dy, wShape, Pad1);
            },
            Theirs = () =>
            {
                var grads = TorchStep(out var y);
                y.Dispose();
                foreach (var g in grads) g.Dispose();
            },
            Check = () =>
            {
                using var y = x.Conv2d(w, null, Pad1);
                using var dx = Tensor.Conv2dBackwardInput(dy, w, xShape, Pad1);
                using var dw = Tensor.Conv2dBackwardWeight(x, dy, wShape, Pad1);
                var grads = TorchStep(out var ty);
                using var ty2 = ty.detach();
                double d = Math.Max(RelDiff(y, ty2), Math.Max(RelDiff(dx, grads[0]), RelDiff(dw, grads[1])));
                ty.Dispose();
                foreach (var g in grads) g.Dispose();
                return d;
            },
        };
        return new CaseSetup([pair], x, w, dy, tx, tw, tdy);
    }

    // ---- softmax --------------------------------------------------------------------------------

    private static CaseSetup Softmax(string name, int rows, int cols)
    {
        var x = Tensor.RandN(rows, cols);
        var tx = Torch(x);
        var pair = new Pair
        {
            Name = name,
            Unit = "GB/s",
            WorkPerCall = 8.0 * rows * cols,
            Mode = "along axis 1; fresh output on both sides (ours pooled), disposed; GB/s counts 4 B read + 4 B written per element",
            Ours = () =>
            {
                using var y = x.Softmax(1);
            },
            Theirs = () =>
            {
                using var y = torch.softmax(tx, 1);
            },
            Check = () =>
            {
                using var y = x.Softmax(1);
                using var ty = torch.softmax(tx, 1);
                return RelDiff(y, ty);
            },
        };
        return new CaseSetup([pair], x, tx);
    }

    // ---- pretrained ResNet18 inference against ONNX Runtime ---------------------------------------

    private static CaseSetup ResNet18Inference(string name, int batch, int side)
    {
        var model = Engine.Onnx.OnnxModel.Load(Engine.Onnx.PretrainedModels.ResNet18Path);
        model.Eval();
        var x = Tensor.Rand([batch, 3, side, side], -115, 140);
        var input = x.ToArray<float>();
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        var session = new Microsoft.ML.OnnxRuntime.InferenceSession(
            Engine.Onnx.OnnxRewrite.ForOtherInputSizes(File.ReadAllBytes(Engine.Onnx.PretrainedModels.ResNet18Path), globalFinalPool: side != 224), options);
        var feed = new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Input247",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(input, [batch, 3, side, side])) };
        float[] Ours()
        {
            using var scope = Tensor.Scope();
            using (GradMode.NoGrad()) return model.Forward(new Variable(x)).Data.Reshape(-1).ToArray<float>();
        }
        float[] Theirs()
        {
            using var results = session.Run(feed);
            return [.. results.First().AsEnumerable<float>()];
        }
        var pair = new Pair
        {
            Name = name,
            Unit = "images/s",
            WorkPerCall = batch,
            UnitScale = 1,
            InferenceMode = false,
            Baseline = "ONNX Runtime",
            Mode = $"the pretrained ResNet18 (CNTK ONNX, 15.9 M parameters), batch {batch} at {side}x{side}, final pool global; ours: OnnxModel in Eval under NoGrad; ONNX Runtime 1.31.1: InferenceSession, 2 intra-op threads",
            Ours = () => Ours(),
            Theirs = () => Theirs(),
            Check = () => RelDiff(Ours(), Theirs()),
        };
        return new CaseSetup([pair], x, session, options);
    }

    // ---- all-MiniLM-L6-v2 (a BERT encoder exported from PyTorch) inference against ONNX Runtime ----------

    private static CaseSetup MiniLMInference(string name, int batch, int tokens)
    {
        string path = Engine.Onnx.PretrainedModels.MiniLMPath;
        var model = Engine.Onnx.OnnxModel.Load(path);
        model.Eval();
        // token ids drawn from the vocabulary's word range, [CLS] first and [SEP] last, no padding
        var rng = new Random(7);
        var ids = new long[batch * tokens];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % tokens == 0 ? 101 : i % tokens == tokens - 1 ? 102 : rng.Next(1996, 29612);
        var mask = Enumerable.Repeat(1L, ids.Length).ToArray();
        var types = new long[ids.Length];
        int[] shape = [batch, tokens];
        var idsT = Tensor.FromArray(ids).Reshape(shape);
        var maskT = Tensor.FromArray(mask).Reshape(shape);
        var typesT = Tensor.FromArray(types).Reshape(shape);
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, options);
        Microsoft.ML.OnnxRuntime.NamedOnnxValue Feed(string n, long[] v) =>
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(n, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(v, shape));
        var feed = new[] { Feed("input_ids", ids), Feed("attention_mask", mask), Feed("token_type_ids", types) };
        float[] Ours()
        {
            using var scope = Tensor.Scope();
            using (GradMode.NoGrad())
                return model.Run(new Variable(idsT), new Variable(maskT), new Variable(typesT))[0].Data.Reshape(-1).ToArray<float>();
        }
        float[] Theirs()
        {
            using var results = session.Run(feed);
            return [.. results.First().AsEnumerable<float>()];
        }
        var pair = new Pair
        {
            Name = name,
            Unit = "sequences/s",
            WorkPerCall = batch,
            UnitScale = 1,
            InferenceMode = false,
            Baseline = "ONNX Runtime",
            Mode = $"all-MiniLM-L6-v2 (PyTorch ONNX export, opset 13, 22.7 M parameters), batch {batch} x {tokens} tokens; ours: OnnxModel in Eval under NoGrad; ONNX Runtime 1.31.1: InferenceSession, 2 intra-op threads",
            Ours = () => Ours(),
            Theirs = () => Theirs(),
            Check = () => RelDiff(Ours(), Theirs()),
        };
        return new CaseSetup([pair], idsT, maskT, typesT, session, options);
    }

    // ---- fine-tuning the pretrained ResNet18 against libtorch ---------------------------------------

    /// <summary>
    /// One step of <c>engine finetune</c>'s second phase on both sides: the pretrained ResNet18 with its
    /// backbone frozen (batch norms on running statistics) except the last stage, a new Linear(512, 10)
    /// head, Adam at 1e-3 for the head and 1e-4 for the last stage; zero grads, forward, cross-entropy,
    /// backward, step. libtorch runs the same ONNX graph through <see cref="TorchOnnx"/> from the same
    /// weights, so the check compares losses and gradients.
    /// </summary>
    private static CaseSetup ResNet18Finetune(string name, int batch, int side)
    {
        var backbone = Engine.Onnx.OnnxModel.Load(Engine.Onnx.PretrainedModels.ResNet18Path);
        var head = new Linear(512, 10, generator: new Generator(7));
        var net = new Sequential(backbone, new Flatten(), head);
        backbone.Freeze();
        backbone.UnfreezeLastStage();
        var opt = new Adam([new ParamGroup(head.Parameters()), new ParamGroup(backbone.LastStageParameters(), learningRate: 1e-4)], 1e-3);
        var loss = new CrossEntropyLoss();
        var x = Tensor.Rand([batch, 3, side, side], -115, 140);
        var y = Tensor.RandInt(0, 10, [batch]);

        var tbackbone = new TorchOnnx(File.ReadAllBytes(Engine.Onnx.PretrainedModels.ResNet18Path), backbone);
        var tw = torch.nn.Parameter(Torch(head.Weight.Data), requires_grad: true);
        var tb = torch.nn.Parameter(Torch(head.Bias!.Data), requires_grad: true);
        // two Adams, one per learning rate: the same arithmetic as one Adam with two parameter groups
        var toptHead = torch.optim.Adam(new[] { tw, tb }, 1e-3);
        var toptLast = torch.optim.Adam(tbackbone.Trainable.Select(t => (TorchSharp.Modules.Parameter)t.Theirs), 1e-4);
        var tx = Torch(x);
        var ty = torch.tensor(y.ToArray<long>(), [batch]);

        Variable OursStep()
        {
            opt.ZeroGrad();
            var l = loss.Call(net.Call(new Variable(x)), new Variable(y));
            l.Backward();
            opt.Step();
            return l;
        }

        TT TorchStep()
        {
            toptHead.zero_grad();
            toptLast.zero_grad();
            var features = tbackbone.Forward(tx).flatten(1);
            var l = torch.nn.functional.cross_entropy(torch.nn.functional.linear(features, tw, tb), ty);
            l.backward();
            toptHead.step()?.Dispose();
            toptLast.step()?.Dispose();
            return l;
        }

        string mode = $"engine finetune's phase 2 step, batch {batch} at {side}x{side}: the pretrained ResNet18 frozen except its last stage " +
                      $"({tbackbone.Trainable.Count} tensors), new Linear(512, 10) head, Adam 1e-3 (head) / 1e-4 (last stage), cross-entropy; " +
                      "ours: OnnxModel + Sequential + Adam with two parameter groups inside Tensor.Scope(); libtorch: the same ONNX graph in torch.nn.functional ops " +
                      "(conv2d, batch_norm on running statistics, max_pool2d, F.pad for CNTK's asymmetric pads), two torch.optim.Adam, autograd, inside torch.NewDisposeScope(); " +
                      "rel diff: worst of the losses of steps 1-3 and the trainable gradients of step 1, from the same weights";
        var pair = StepPair(name, "images/s", batch, mode, OursStep, TorchStep,
            tbackbone.Trainable.Select(t => ((Variable)t.Ours, t.Theirs)).Append((head.Weight, tw)).Append((head.Bias!, tb)).ToList());
        return new CaseSetup([pair], new OwnedModel(net, opt), x, y, tbackbone, tw, tb, toptHead, toptLast, tx, ty);
    }

    // ---- add ------------------------------------------------------------------------------------

    private static CaseSetup Add(string name, int n)
    {
        var a = Tensor.RandN(n);
        var b = Tensor.RandN(n);
        var ta = Torch(a);
        var tb = Torch(b);
        float[] fa = a.ToArray<float>(), fb = b.ToArray<float>();
        double bytes = 3.0 * 4 * n;   // read a, read b, write the result

        // Checks run before any timing (the in-place rows change a); all compare a + b.
        double CheckFresh()
        {
            using var c = a + b;
            using var tc = ta + tb;
            return RelDiff(c, tc);
        }

        var inPlace = new Pair
        {
            Name = name,
            Unit = "GB/s",
            WorkPerCall = bytes,
            Mode = "in place on both: ours a.AddInPlace(b), libtorch a.add_(b); GB/s counts 12 B per element",
            Ours = () => a.AddInPlace(b),
            Theirs = () => Release(ta.add_(tb), ta),
            Check = CheckFresh,
        };
        var fresh = new Pair
        {
            Name = name + "_fresh",
            Unit = "GB/s",
            WorkPerCall = bytes,
            Mode = "c = a + b, fresh output on both, disposed: ours reuses pooled memory, libtorch maps a new 64 MiB buffer per call (page faults): informative, not the primary figure",
            Ours = () =>
            {
                using var c = a + b;
            },
            Theirs = () =>
            {
                using var c = ta + tb;
            },
            Check = CheckFresh,
        };
        var vsPrimitives = new Pair
        {
            Name = name + "_vs_tensorprimitives",
            Unit = "GB/s",
            WorkPerCall = bytes,
            Baseline = "TensorPrimitives",
            InferenceMode = false,
            Mode = "in place on both: ours a.AddInPlace(b) (engine threads), TensorPrimitives.Add(a, b, a) on float[] (one thread)",
            Ours = () => a.AddInPlace(b),
            Theirs = () => TensorPrimitives.Add(fa, fb, fa),
            Check = () =>
            {
                using var c = a + b;
                var r = new float[n];
                TensorPrimitives.Add(fa, fb, r);
                return RelDiff(c.ToArray<float>(), r);
            },
        };
        return new CaseSetup([inPlace, fresh, vsPrimitives], a, b, ta, tb);
    }

    // ---- sum ------------------------------------------------------------------------------------

    private static CaseSetup Sum(string name, int n)
    {
        // Uniform [0, 1) so the sum is large and its relative difference meaningful.
        var x = Tensor.Rand(n);
        var tx = Torch(x);
        float[] fx = x.ToArray<float>();
        var sum = new Pair
        {
            Name = name,
            Unit = "GB/s",
            WorkPerCall = 4.0 * n,
            Mode = "sum of all elements to a rank-0 tensor on both, disposed; GB/s counts 4 B per element",
            Ours = () =>
            {
                using var s = x.Sum();
            },
            Theirs = () =>
            {
                using var s = tx.sum();
            },
            Check = () =>
            {
                using var s = x.Sum();
                using var ts = tx.sum();
                return RelDiff([s.Item<float>()], [ts.item<float>()]);
            },
        };
        var vsPrimitives = new Pair
        {
            Name = name + "_vs_tensorprimitives",
            Unit = "GB/s",
            WorkPerCall = 4.0 * n,
            Baseline = "TensorPrimitives",
            InferenceMode = false,
            Mode = "ours x.Sum() (engine threads) vs TensorPrimitives.Sum(float[]) (one thread)",
            Ours = () =>
            {
                using var s = x.Sum();
            },
            Theirs = () => Sink = TensorPrimitives.Sum(fx),
            Check = () =>
            {
                using var s = x.Sum();
                return RelDiff([s.Item<float>()], [TensorPrimitives.Sum(fx)]);
            },
        };
        return new CaseSetup([sum, vsPrimitives], x, tx);
    }

    // ---- training steps (issue 5) ---------------------------------------------------------------

    private const string MlpLayers = "Flatten, Linear(784,256), ReLU, Linear(256,128), ReLU, Linear(128,10)";
    private const string LeNetLayers = "Conv2d(1,6,5,pad 2), ReLU, MaxPool2d(2), Conv2d(6,16,5), ReLU, MaxPool2d(2), Flatten, Linear(400,120), ReLU, Linear(120,84), ReLU, Linear(84,10)";

    /// <summary>Our <see cref="Models.Mlp"/> in torch.nn modules: the same parameters in the same order.</summary>
    private static torch.nn.Module<TT, TT> TorchMlp() => torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10));

    /// <summary>Our <see cref="Models.LeNet"/> in torch.nn modules: the same parameters in the same order.</summary>
    private static torch.nn.Module<TT, TT> TorchLeNet() => torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding: 2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10));

    /// <summary>Releases a model's parameters, their gradients and the optimizer's state at the end of a case.</summary>
    private sealed class OwnedModel(Module model, Optimizer optimizer) : IDisposable
    {
        public void Dispose()
        {
            optimizer.Dispose();
            foreach (var p in model.Parameters())
            {
                p.ZeroGrad();
                p.Data.Dispose();
            }
        }
    }

    /// <summary>
    /// One SGD training step (lr 0.01, momentum 0.9) of the same architecture on both sides, on the
    /// same batch of <paramref name="batch"/> images [batch, 1, 28, 28] with int64 labels: zero the
    /// gradients, forward, cross-entropy (mean), backward, optimizer step. libtorch starts from a copy
    /// of our initial weights, so the check compares the two sides' losses and gradients.
    /// </summary>
    private static CaseSetup TrainingStep(string name, Func<Sequential> ourModel, Func<torch.nn.Module<TT, TT>> torchModel, int batch, string layers)
    {
        var model = ourModel();
        var opt = new SGD(model.Parameters(), lr: 0.01, momentum: 0.9);
        var loss = new CrossEntropyLoss();
        var x = Tensor.RandN(batch, 1, 28, 28);
        var y = Tensor.RandInt(0, 10, [batch]);

        var tmodel = torchModel();
        var ours = model.Parameters().ToList();
        var theirs = tmodel.parameters().ToList();
        if (ours.Count != theirs.Count)
            throw new InvalidOperationException($"{name}: {ours.Count} parameters here, {theirs.Count} in the libtorch model");
        using (torch.no_grad())
            for (int i = 0; i < ours.Count; i++)
            {
                if (!ours[i].Shape.ToArray().Select(d => (long)d).SequenceEqual(theirs[i].shape))
                    throw new InvalidOperationException($"{name}: parameter {ours[i].Name} is [{string.Join(", ", ours[i].Shape.ToArray())}] here, [{string.Join(", ", theirs[i].shape)}] in libtorch");
                using var src = Torch(ours[i].Data);
                Release(theirs[i].copy_(src), theirs[i]);
            }
        var topt = torch.optim.SGD(tmodel.parameters(), 0.01, momentum: 0.9);
        var tx = Torch(x);
        var ty = torch.tensor(y.ToArray<long>(), [batch]);

        // Ours as the issue writes it: intermediates disposed by the scope; the gradients belong to
        // the parameters and the momentum buffers to the optimizer.
        Variable OursStep()
        {
            opt.ZeroGrad();
            var l = loss.Call(model.Call(new Variable(x)), new Variable(y));
            l.Backward();
            opt.Step();
            return l;
        }

        // libtorch with autograd (not under inference_mode); the dispose scope releases every
        // tensor handle made in the step (the gradients and momentum buffers live on in libtorch).
        TT TorchStep()
        {
            topt.zero_grad();
            using var logits = tmodel.forward(tx);
            var l = torch.nn.functional.cross_entropy(logits, ty);
            l.backward();
            topt.step()?.Dispose();
            return l;
        }

        string mode = $"one SGD step (lr 0.01, momentum 0.9), batch {batch}: zero grads, forward, cross-entropy, backward, step; {layers}; " +
                      "ours: Models, SGD, CrossEntropyLoss inside Tensor.Scope(); libtorch: torch.nn.Sequential, torch.optim.SGD, functional.cross_entropy, autograd, inside torch.NewDisposeScope(); " +
                      "rel diff: worst of the losses of steps 1-3 and the gradients of step 1, from the same initial weights";
        var pair = StepPair(name, "steps/s", 1, mode, OursStep, TorchStep, ours.Select((p, i) => ((Variable)p, (TT)theirs[i])).ToList());
        return new CaseSetup([pair], new OwnedModel(model, opt), x, y, tmodel, topt, tx, ty);
    }

    /// <summary>
    /// A row timing one training step on each side (inside a dispose scope), checked by running three
    /// steps on both from the same weights: the worst relative difference of the losses, and of the
    /// <paramref name="gradients"/> (ours, libtorch's) after the first step.
    /// </summary>
    private static Pair StepPair(string name, string unit, double workPerCall, string mode, Func<Variable> oursStep, Func<TT> torchStep,
        IReadOnlyList<(Variable Ours, TT Theirs)> gradients) => new()
    {
        Name = name,
        Unit = unit,
        WorkPerCall = workPerCall,
        UnitScale = 1,
        InferenceMode = false,
        Mode = mode,
        Ours = () =>
        {
            using (Tensor.Scope()) oursStep();
        },
        Theirs = () =>
        {
            using (torch.NewDisposeScope()) torchStep();
        },
        Check = () =>
        {
            double d = 0;
            for (int step = 1; step <= 3; step++)
            {
                using var scope = Tensor.Scope();
                using var tscope = torch.NewDisposeScope();
                float ourLoss = oursStep().Data.Item<float>();
                float theirLoss = torchStep().item<float>();
                d = Math.Max(d, RelDiff([ourLoss], [theirLoss]));
                if (step > 1) continue;
                foreach (var (ours, theirs) in gradients)
                {
                    if (ours.Grad is not { } g || theirs.grad is not { } tg)
                        return double.PositiveInfinity;
                    d = Math.Max(d, RelDiff(g.Data, tg));
                }
            }
            return d;
        },
    };
}
