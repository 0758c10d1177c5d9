using Engine.Layers;
using Engine.Onnx;

namespace Engine.Tests;

/// <summary>
/// A Relu that alone reads a Conv (or a fused Conv + BatchNormalization) is merged into it at load: in inference the
/// ReLU is applied as the convolution writes its output; in training the graph runs as written and gradients flow.
/// </summary>
public sealed class ReluFusionTests
{
    [Fact]
    public void Conv_relu_and_conv_batchnorm_relu_are_merged_and_compute_what_the_layers_compute()
    {
        var g = new Generator(21);
        var stack = new Sequential(new Conv2d(3, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new ReLU(),
            new Conv2d(8, 6, 3, padding: 1, generator: g), new ReLU(), new GlobalAvgPool2d(), new Flatten(), new Linear(6, 4, generator: g));
        stack.Train();
        using (GradMode.NoGrad())
            for (int i = 0; i < 3; i++) stack.Forward(new Variable(Tensor.RandN([4, 3, 12, 12], 0, 1, generator: g)));
        stack.Eval();
        string dir = Directory.CreateTempSubdirectory("engine-relu-fusion-").FullName;
        try
        {
            string path = Path.Combine(dir, "stack.onnx");
            OnnxExport.Save(stack, [3, 12, 12], path);
            var model = OnnxModel.Load(path);
            model.Eval();
            using var scope = Tensor.Scope();
            var x = Tensor.RandN([2, 3, 12, 12], 0, 1, generator: new Generator(22));
            // the plan has no Relu node left: both were merged into the convolutions before them
            var ran = model.Profile(new Variable(x)).Select(p => p.Node.OpType).ToList();
            Assert.DoesNotContain("Relu", ran);
            Assert.Contains("ConvRelu", ran);
            Assert.Contains("ConvBatchNormalization", ran);
            Tensor expected;
            using (GradMode.NoGrad()) expected = stack.Forward(new Variable(x)).Data;
            Tensor actual;
            using (GradMode.NoGrad()) actual = model.Forward(new Variable(x)).Data;
            Check.Equal(RefArray.Of(expected), actual, 1e-4, 1e-5, "fused inference");

            // training: the same graph, gradients through the ReLUs
            model.Train();
            stack.Train();
            var v = new Variable(x, requiresGrad: true);
            var loss = model.Forward(v).Square().Sum();
            loss.Backward();
            Assert.NotNull(v.Grad);
            Assert.Contains(v.Grad!.Data.Abs().ToArray<float>(), a => a > 0);
            var vs = new Variable(x, requiresGrad: true);
            stack.Forward(vs).Square().Sum().Backward();
            Check.Equal(RefArray.Of(vs.Grad!.Data), v.Grad.Data, 1e-4, 1e-5, "training gradient");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ResNet18_blocks_run_as_convolutions_whose_writes_add_the_shortcut_and_clip()
    {
        // every Conv → BatchNormalization → Relu and Conv → BatchNormalization → Add → Relu of the pretrained ResNet18
        // is one node; ResNet18ImportTests checks its outputs against ONNX Runtime
        var model = OnnxModel.Load(PretrainedModels.ResNet18Path);
        model.Eval();
        using var scope = Tensor.Scope();
        var ran = model.Profile(new Variable(Tensor.RandN([1, 3, 32, 32], 0, 1, generator: new Generator(23)))).Select(p => p.Node).ToList();
        Assert.DoesNotContain(ran, n => n.OpType is "Relu" or "Add" or "BatchNormalization");
        // at least the eight blocks' shortcuts (two per stage); this export has one more Add before a Relu
        Assert.InRange(ran.Count(n => n.Attribute.Any(a => a.Name == "residual")), 8, 12);
    }
}
