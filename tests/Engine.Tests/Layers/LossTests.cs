using Engine.Layers;

namespace Engine.Tests;

/// <summary>Loss modules: values derived by hand, gradients by GradCheck.</summary>
public sealed class LossTests
{
    private static Variable V(double[] v, params int[] shape) => new(Tensor.FromArray(v, shape), requiresGrad: true);

    [Fact]
    public void Cross_entropy_and_nll_agree()
    {
        using var scope = Tensor.Scope();
        var logits = V([2, 1, 0.1, 0.5, 2.5, 0.3], 2, 3);
        var y = Tensor.FromArray(new long[] { 0, 1 });
        var ce = new CrossEntropyLoss().Call(logits, y).Data.Item<double>();
        var nll = new NLLLoss().Call(logits.LogSoftmax(1), y).Data.Item<double>();
        // −½(ln softmax(2, 1, 0.1)[0] + ln softmax(0.5, 2.5, 0.3)[1])
        double l0 = -(2 - Math.Log(Math.Exp(2) + Math.Exp(1) + Math.Exp(0.1)));
        double l1 = -(2.5 - Math.Log(Math.Exp(0.5) + Math.Exp(2.5) + Math.Exp(0.3)));
        Assert.Equal((l0 + l1) / 2, ce, 12);
        Assert.Equal(ce, nll, 12);
        var w = Tensor.FromArray(new double[] { 2, 1, 1 });
        double weighted = new NLLLoss(w).Call(logits.LogSoftmax(1), y).Data.Item<double>();
        Assert.Equal((2 * l0 + l1) / 3, weighted, 12);              // mean over Σ w[y] = 3
        Assert.Equal(2 * l0 + l1, new NLLLoss(w) { Reduction = Reduction.Sum }.Call(logits.LogSoftmax(1), y).Data.Item<double>(), 12);
    }

    [Theory]
    [InlineData(Reduction.Mean, DType.Float32)]
    [InlineData(Reduction.Sum, DType.Float32)]
    [InlineData(Reduction.None, DType.Float32)]
    [InlineData(Reduction.Mean, DType.Float64)]
    public void Cross_entropy_fused_backward_gives_the_general_formulas_bits(Reduction reduction, DType dtype)
    {
        // without weights or smoothing the backward runs fused passes; the recorded formulas (createGraph) and the
        // general weighted path with weights of one compute the same numbers op for op
        using var scope = Tensor.Scope();
        var x = Tensor.RandN([37, 10], 0, 3, dtype, new Generator(5));
        var y = Tensor.RandInt(0, 10, [37], generator: new Generator(6));
        Tensor Gradient(Tensor? weight, bool createGraph)
        {
            var v = new Variable(x, requiresGrad: true);
            var loss = Functional.CrossEntropy(v, y, weight, reduction: reduction);
            var seed = reduction == Reduction.None ? Tensor.RandN([37], 0, 1, dtype, new Generator(7)) : Tensor.Full([], 0.75, dtype);
            return Autograd.Grad([loss], [v], [new Variable(seed)], createGraph: createGraph)[0].Data;
        }
        var fused = Gradient(null, createGraph: false);
        var recorded = Gradient(null, createGraph: true);
        var general = Gradient(Tensor.Ones([10], dtype), createGraph: false);
        Assert.Equal(recorded.To(DType.Float64).ToArray<double>(), fused.To(DType.Float64).ToArray<double>());
        Assert.Equal(general.To(DType.Float64).ToArray<double>(), fused.To(DType.Float64).ToArray<double>());
        // and it is the derivative: (softmax − onehot) · upstream, by hand for one element
        var s = x.Softmax(1).To(DType.Float64).ToArray<double>();
        long target = y.To(DType.Int64).ToArray<long>()[3];
        double up = reduction switch { Reduction.Mean => 0.75 / 37, Reduction.Sum => 0.75, _ => double.NaN };
        if (reduction != Reduction.None)
            Assert.Equal((s[3 * 10 + (int)target] - 1) * up, fused.To(DType.Float64).ToArray<double>()[3 * 10 + (int)target], dtype == DType.Float32 ? 5 : 12);
    }

    [Fact]
    public void Huber_is_quadratic_near_zero_and_linear_far_away()
    {
        using var scope = Tensor.Scope();
        // δ = 1: d = 0.5 → ½·0.25 = 0.125; d = −3 → 1·(3 − 0.5) = 2.5;  mean 1.3125
        var l = new HuberLoss(1).Call(V([0.5, -3], 2), new Variable(Tensor.FromArray(new double[] { 0, 0 })));
        Assert.Equal(1.3125, l.Data.Item<double>(), 12);
        var r = GradCheck.Run(v => new HuberLoss(0.7).Call(v[0], v[1]), [Tensor.FromArray(new double[] { 0.3, -2, 1.5, 0.1 }), Tensor.FromArray(new double[] { 0, 0.2, -0.4, 0.5 })]);
        Assert.True(r.Passed, r.Failure);
    }

    [Fact]
    public void Contrastive_loss_pulls_similar_pairs_and_pushes_dissimilar_ones()
    {
        using var scope = Tensor.Scope();
        // pair 1 similar, d = 5 (3-4-5): 25; pair 2 dissimilar, d = 0.6 with margin 1: (1 − 0.6)² = 0.16; mean 12.58
        var a = V([0, 0, 0, 0], 2, 2);
        var b = V([3, 4, 0.6, 0], 2, 2);
        var labels = Tensor.FromArray(new long[] { 1, 0 });
        var loss = new ContrastiveLoss(1).Forward(a, b, labels);
        Assert.Equal(12.58, loss.Data.Item<double>(), 6);
        var r = GradCheck.Run(v => new ContrastiveLoss(1.5).Forward(v[0], v[1], labels),
            [Tensor.FromArray(new double[] { 0.1, 0.2, -0.3, 0.4 }, 2, 2), Tensor.FromArray(new double[] { 0.5, -0.1, 0.2, 0.3 }, 2, 2)]);
        Assert.True(r.Passed, r.Failure);
        Assert.Throws<EngineException>(() => new ContrastiveLoss().Call(a, b));
        Assert.Throws<ShapeException>(() => new ContrastiveLoss().Forward(a, b, Tensor.FromArray(new long[] { 1 })));
    }

    [Fact]
    public void Mse_and_bce_modules_wrap_the_functional_losses()
    {
        using var scope = Tensor.Scope();
        var x = V([0.5, -1, 2], 3);
        var t = new Variable(Tensor.FromArray(new double[] { 1, 0, 1 }));
        Assert.Equal((0.25 + 1 + 1) / 3, new MSELoss().Call(x, t).Data.Item<double>(), 12);
        double bce = new[] { (0.5, 1.0), (-1.0, 0.0), (2.0, 1.0) }.Average(p => -(p.Item2 * Math.Log(1 / (1 + Math.Exp(-p.Item1))) + (1 - p.Item2) * Math.Log(1 - 1 / (1 + Math.Exp(-p.Item1)))));
        Assert.Equal(bce, new BCEWithLogitsLoss().Call(x, t).Data.Item<double>(), 12);
        Assert.Throws<ShapeException>(() => new NLLLoss().Call(x, t));
    }
}
