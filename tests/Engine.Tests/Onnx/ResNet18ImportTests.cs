using Engine.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Engine.Tests;

/// <summary>
/// The pretrained ResNet18 (CNTK export, opset 8, asymmetric pads, BatchNormalization not folded)
/// imports, and its output matches ONNX Runtime's on the same random inputs, at the declared 224×224
/// and at 64×64 (where ONNX Runtime runs a copy of the model with the final fixed 7×7 pool made global).
/// </summary>
public sealed class ResNet18ImportTests
{
    private static OnnxModel Load() => OnnxModel.Load(PretrainedModels.ResNet18Path);

    [Fact]
    public void Imports_with_named_parameters_buffers_and_the_declared_input()
    {
        var model = Load();
        Assert.Equal(8, model.Opset);
        Assert.Equal("Input247", Assert.Single(model.Inputs));
        Assert.Equal([1, 3, 224, 224], model.DeclaredInputShapes[0].Select(d => d ?? -1).ToArray());
        // 22 convolutions and 22 batch norms: 22 conv weights + 44 scales/biases trainable; 44 running statistics as buffers
        Assert.Equal(22, model.Parameters().Count(p => p.Rank == 4));
        Assert.Equal(44, model.Parameters().Count(p => p.Rank == 1));
        Assert.Equal(44, model.NamedBuffers().Count());
        Assert.Equal([64, 3, 7, 7], model.ParameterOf("Parameter91").Shape.ToArray());
    }

    private static float[] OrtRun(byte[] modelBytes, string input, float[] data, int[] shape)
    {
        using var session = new InferenceSession(modelBytes);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, shape))]);
        return [.. results.First().AsEnumerable<float>()];
    }

    [Theory]
    [InlineData(224)]
    [InlineData(64)]
    public void Output_matches_onnx_runtime(int side)
    {
        using var scope = Tensor.Scope();
        var model = Load();
        model.Eval();
        var rng = new Random(side);
        int[] shape = [2, 3, side, side];
        var data = new float[2 * 3 * side * side];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 255 - 115);
        float[] ours;
        using (GradMode.NoGrad())
            ours = model.Forward(new Variable(Tensor.FromArray(data).Reshape(shape))).Data.Reshape(-1).ToArray<float>();
        byte[] bytes = File.ReadAllBytes(PretrainedModels.ResNet18Path);
        bytes = OnnxRewrite.ForOtherInputSizes(bytes, globalFinalPool: side != 224);
        float[] theirs = OrtRun(bytes, "Input247", data, shape);
        Assert.Equal(theirs.Length, ours.Length);
        Assert.Equal(2 * 512, ours.Length);
        double scale = theirs.Max(Math.Abs), worst = 0;
        for (int i = 0; i < ours.Length; i++) worst = Math.Max(worst, Math.Abs(ours[i] - theirs[i]));
        Assert.True(worst <= 1e-4 * scale, $"max |ours - onnxruntime| = {worst:E2}, output scale {scale:E2}");
    }

    [Fact]
    public void Parameters_train_and_freeze()
    {
        using var scope = Tensor.Scope();
        var model = Load();
        var x = new Variable(Tensor.RandN([1, 3, 64, 64], 0, 50, generator: new Generator(1)));
        model.Forward(x).Sum().Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        model.Freeze();
        Assert.Empty(model.Parameters(trainableOnly: true));
    }

    [Fact]
    public void An_input_the_graph_cannot_take_names_the_node_and_the_shapes()
    {
        using var scope = Tensor.Scope();
        var model = Load();
        model.Eval();
        var ex = Assert.Throws<OnnxException>(() => model.Forward(new Variable(Tensor.Zeros(1, 3, 100, 100))));
        Assert.Contains("node", ex.Message);
        Assert.Contains("[1, ", ex.Message);
        var channels = Assert.Throws<OnnxException>(() => model.Forward(new Variable(Tensor.Zeros(1, 1, 64, 64))));
        Assert.Contains("Conv 'Convolution249'", channels.Message);
        Assert.Contains("[1, 1, 64, 64]", channels.Message);
    }
}
