using Engine.Layers;

namespace Engine.Tests;

/// <summary>Each layer against the computation it stands for, and gradient checks through layers.</summary>
public sealed class LayerTests
{
    private static Tensor R(int seed, params int[] shape) => Data.Uniform(new Random(seed), shape, -1, 1, DType.Float32);

    [Fact]
    public void Linear_is_x_times_w_transposed_plus_b()
    {
        using var scope = Tensor.Scope();
        var lin = new Linear(3, 2);
        var x = R(1, 4, 3);
        var expected = x.MatMul(lin.Weight.Data, transposeB: true) + lin.Bias!.Data;
        Check.Equal(RefArray.Of(expected), lin.Call(new Variable(x)).Data);
        Assert.Throws<ShapeException>(() => lin.Call(new Variable(R(2, 4, 5))));
        foreach (var b in new[] { 1 / Math.Sqrt(3) })
            Assert.All(lin.Weight.Data.ToArray<float>(), v => Assert.InRange(v, -b, b));
    }

    [Fact]
    public void Functional_linear_equals_the_linear_layer_with_the_same_weights()
    {
        using var scope = Tensor.Scope();
        var lin = new Linear(3, 2, generator: new Generator(4));
        var x = new Variable(R(5, 2, 4, 3));
        Check.Equal(RefArray.Of(lin.Call(x).Data), Functional.Linear(x, lin.Weight, lin.Bias).Data, "with bias");
        var noBias = new Linear(3, 2, bias: false, generator: new Generator(4));
        Check.Equal(RefArray.Of(noBias.Call(x).Data), Functional.Linear(x, noBias.Weight).Data, "without bias");
        // y = x·Wᵀ + b with x = [1, 2], W = [[1, 0], [0, 1], [1, 1]], b = [10, 20, 30]: [11, 22, 33]
        var y = Functional.Linear(new Variable(Tensor.FromArray(new float[] { 1, 2 }, 1, 2)),
            new Variable(Tensor.FromArray(new float[] { 1, 0, 0, 1, 1, 1 }, 3, 2)), new Variable(Tensor.FromArray(new float[] { 10, 20, 30 })));
        Assert.Equal(new float[] { 11, 22, 33 }, y.Data.ToArray<float>());
        var ex = Assert.Throws<ShapeException>(() => Functional.Linear(x, lin.Weight, new Variable(Tensor.Zeros(3))));
        Assert.Contains("Linear: [2, 3] x [3]", ex.Message);
        Assert.Throws<ShapeException>(() => Functional.Linear(new Variable(R(6, 4, 5)), lin.Weight));
    }

    [Fact]
    public void Functional_batchnorm_needs_no_running_statistics_in_training()
    {
        using var scope = Tensor.Scope();
        // one channel, batch [1, 2, 3, 6]: mean 3, biased variance 3.5, so y₀ = (1 − 3)/√3.5
        var x = new Variable(Tensor.FromArray(new double[] { 1, 2, 3, 6 }).Reshape(4, 1));
        Assert.Equal((1 - 3) / Math.Sqrt(3.5), Functional.BatchNorm(x, eps: 0).Data[0, 0], 12);
        var affine = Functional.BatchNorm(x, weight: new Variable(Tensor.Full([1], 2.0, DType.Float64)), bias: new Variable(Tensor.Full([1], 1.0, DType.Float64)), eps: 0);
        Assert.Equal(1 + 2 * (1 - 3) / Math.Sqrt(3.5), affine.Data[0, 0], 12);
    }

    [Fact]
    public void Conv_and_pooling_layers_match_the_tensor_ops()
    {
        using var scope = Tensor.Scope();
        var conv = new Conv2d(2, 3, (3, 2), stride: 2, padding: new Padding2d(1, 0, 0, 1), groups: 1);
        var x = R(3, 2, 2, 7, 6);
        Check.Equal(RefArray.Of(x.Conv2d(conv.Weight.Data, conv.Bias!.Data, conv.Options)), conv.Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.MaxPool2d(2)), new MaxPool2d(2).Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.AvgPool2d(3, 2, 1)), new AvgPool2d(3, 2, 1).Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.Mean([2, 3], keepDim: true)), new AdaptiveAvgPool2d(1).Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.AvgPool2d((7, 3))), new AdaptiveAvgPool2d((1, 2)).Call(new Variable(x)).Data);
    }

    [Fact]
    public void Adaptive_pooling_with_uneven_cells_follows_pytorchs_rule()
    {
        using var scope = Tensor.Scope();
        // H = 5 into 3 cells: rows [0, 2), [1, 4), [3, 5) (start ⌊i·5/3⌋, end ⌈(i+1)·5/3⌉)
        var x = Tensor.Arange(0, 5, 1).Reshape(1, 1, 5, 1);
        var y = new AdaptiveAvgPool2d((3, 1)).Call(new Variable(x)).Data;
        Assert.Equal(new float[] { 0.5f, 2f, 3.5f }, y.ToArray<float>());
    }

    [Fact]
    public void Batch_norm_uses_batch_statistics_in_training_and_running_ones_in_evaluation()
    {
        using var scope = Tensor.Scope();
        var bn = new BatchNorm1d(2, momentum: 0.5);
        var x = Tensor.FromArray(new float[,] { { 1, 10 }, { 3, 30 } });
        var y = bn.Call(new Variable(x)).Data;
        // per channel: mean 2 and 20, biased variance 1 and 100 → ±1/√(1 + ε) and ±10/√(100 + ε)
        Assert.Equal(-1 / MathF.Sqrt(1 + 1e-5f), y[0, 0], 5);
        Assert.Equal(1 / MathF.Sqrt(1 + 1e-5f) * 1, y[1, 0], 5);
        // running: 0.5·0 + 0.5·mean; 0.5·1 + 0.5·unbiased variance (2 and 200)
        Assert.Equal(new float[] { 1, 10 }, bn.RunningMean.ToArray<float>());
        Assert.Equal(new float[] { 1.5f, 100.5f }, bn.RunningVar.ToArray<float>());
        bn.Eval();
        var e = bn.Call(new Variable(x)).Data;
        Assert.Equal((1 - 1) / Math.Sqrt(1.5 + 1e-5), e[0, 0], 5);
        Assert.Equal((30 - 10) / Math.Sqrt(100.5 + 1e-5), e[1, 1], 4);
        Assert.Throws<ShapeException>(() => new BatchNorm2d(2).Call(new Variable(x)));
    }

    [Fact]
    public void Dropout_drops_in_training_only_and_is_seeded()
    {
        using var scope = Tensor.Scope();
        var x = new Variable(Tensor.Ones(1000));
        var a = new Dropout(0.3, new Generator(5)).Call(x).Data.ToArray<float>();
        var b = new Dropout(0.3, new Generator(5)).Call(x).Data.ToArray<float>();
        Assert.Equal(a, b);
        Assert.InRange(a.Count(v => v == 0), 220, 380);
        Assert.All(a.Where(v => v != 0), v => Assert.Equal(1 / 0.7f, v, 5));
        var d = new Dropout(0.3);
        d.Eval();
        Assert.All(d.Call(x).Data.ToArray<float>(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Embedding_layer_norm_activations_and_flatten()
    {
        using var scope = Tensor.Scope();
        var emb = new Embedding(5, 3);
        var ids = Tensor.FromArray(new long[,] { { 4, 0 }, { 4, 2 } });
        var e = emb.Call(new Variable(ids)).Data;
        Assert.Equal(new[] { 2, 2, 3 }, e.Shape.ToArray());
        Assert.Equal(RefArray.Of(emb.Weight.Data.Select(0, 4)).Data, RefArray.Of(e.Select(0, 1).Select(0, 0)).Data);
        var ln = new LayerNorm([4]);
        var x = R(6, 3, 4);
        var y = ln.Call(new Variable(x)).Data;
        Assert.All(RefArray.Of(y.Mean(-1)).Data, v => Assert.Equal(0, v, 5));
        Check.Equal(RefArray.Of(x.Relu()), new ReLU().Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.LeakyRelu(0.2)), new LeakyReLU(0.2).Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.Sigmoid()), new Sigmoid().Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.Tanh()), new Tanh().Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.Gelu()), new GELU().Call(new Variable(x)).Data);
        Check.Equal(RefArray.Of(x.Softmax(1)), new Softmax(1).Call(new Variable(x)).Data);
        Assert.Equal(new[] { 2, 24 }, new Flatten().Call(new Variable(R(7, 2, 2, 3, 4))).Shape.ToArray());
    }

    [Fact]
    public void Gradients_through_a_residual_block_pass_gradcheck()
    {
        var block = new BasicBlock(2, 3, stride: 2, dtype: DType.Float64, generator: new Generator(3));
        block.Eval();                                   // running statistics: a fixed function of the input
        var r = GradCheck.Run(v => block.Call(v[0]).Sum(), [Data.Uniform(new Random(8), [2, 2, 5, 5], -1, 1)], name: "BasicBlock");
        Assert.True(r.Passed, r.Failure);
        block.Train();
        var weight = ((Conv2d)block.GetModule("conv1")).Weight;
        using var scope = Tensor.Scope();
        block.Call(new Variable(Data.Uniform(new Random(9), [2, 2, 5, 5], -1, 1))).Sum().Backward();
        Assert.NotNull(weight.Grad);
        Assert.Equal(new[] { "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias", "downsample.0.weight", "downsample.1.weight", "downsample.1.bias" },
            block.NamedParameters().Select(p => p.Name));
        foreach (var p in block.Parameters()) p.ZeroGrad();
    }

    [Fact]
    public void Initialisers_draw_from_their_distributions_reproducibly()
    {
        using var scope = Tensor.Scope();
        var t = Tensor.Zeros([200, 300], DType.Float64);
        Init.KaimingUniform(t, nonlinearity: "relu", generator: new Generator(1));
        double bound = Math.Sqrt(2) * Math.Sqrt(3.0 / 300);
        var v = t.ToArray<double>();
        Assert.All(v, x => Assert.InRange(x, -bound, bound));
        Assert.InRange(v.Max(), bound * 0.99, bound);
        Init.KaimingNormal(t, fanOut: true, nonlinearity: "relu", generator: new Generator(1));
        Assert.Equal(Math.Sqrt(2.0 / 200), Std(t.ToArray<double>()), 2);
        Init.XavierUniform(t, generator: new Generator(1));
        Assert.InRange(t.ToArray<double>().Max(), 0, Math.Sqrt(6.0 / 500));
        Init.XavierNormal(t, generator: new Generator(2));
        Assert.Equal(Math.Sqrt(2.0 / 500), Std(t.ToArray<double>()), 2);
        var again = Tensor.Zeros([200, 300], DType.Float64);
        Init.XavierNormal(again, generator: new Generator(2));
        Assert.Equal(t.ToArray<double>(), again.ToArray<double>());
        Init.Constant(t, 0.5);
        Assert.All(t.ToArray<double>(), x => Assert.Equal(0.5, x));
        Init.Zeros(t);
        Assert.All(t.ToArray<double>(), x => Assert.Equal(0, x));
        Assert.Throws<EngineException>(() => Init.Gain("softsign"));
        Assert.Throws<ShapeException>(() => Init.XavierUniform(Tensor.Zeros(3)));

        static double Std(double[] a) { double m = a.Average(); return Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / a.Length); }
    }
}
