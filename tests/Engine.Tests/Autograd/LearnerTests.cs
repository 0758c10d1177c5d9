namespace Engine.Tests;

/// <summary>Small examples whose gradients are derived by hand in the comments: the tests a learner reads first.</summary>
public sealed class LearnerTests
{
    private static Variable Leaf(params double[] v) => new(Tensor.FromArray(v), requiresGrad: true);

    [Fact]
    public void Quadratic_polynomial()
    {
        using var scope = Tensor.Scope();
        // y = x² + 5x + 4 at x = [3, 1, 4];  dy/dx = 2x + 5 = [11, 7, 13]
        var x = Leaf(3, 1, 4);
        var y = x * x + 5.0 * x + 4.0;
        y.Backward(new Variable(Tensor.OnesLike(y.Data)));
        Assert.Equal(new double[] { 11, 7, 13 }, x.Grad!.Data.ToArray<double>());
    }

    [Fact]
    public void A_value_used_twice_gets_both_contributions()
    {
        using var scope = Tensor.Scope();
        // L = Σ (a·b + a) with a = [2], b = [5]:  ∂L/∂a = b + 1 = 6 (two paths add up),  ∂L/∂b = a = 2
        var a = Leaf(2);
        var b = Leaf(5);
        (a * b + a).Sum().Backward();
        Assert.Equal(6.0, a.Grad!.Data[0]);
        Assert.Equal(2.0, b.Grad!.Data[0]);
    }

    [Fact]
    public void Broadcast_gradients_are_summed_back()
    {
        using var scope = Tensor.Scope();
        // L = Σᵢⱼ x[i, j] · w[j] with x = [[1, 2], [3, 4]]:  ∂L/∂w[j] = Σᵢ x[i, j] = [4, 6]
        var x = new Variable(Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }));
        var w = Leaf(10, 20);
        (x * w).Sum().Backward();
        Assert.Equal(new double[] { 4, 6 }, w.Grad!.Data.ToArray<double>());
    }

    /// <summary>
    /// The seed document's two-layer network, z1 = W1·x + b1, h = σ(z1), z2 = W2·h + b2, y = σ(z2),
    /// L = ½(y − y')², with x = [1, 2], W1 = [[0.1, 0.2], [0.3, 0.4]], b1 = [0.1, 0.1],
    /// W2 = [[0.5, 0.6]], b2 = [0.2], y' = 1.
    /// </summary>
    [Fact]
    public void The_seed_documents_two_layer_network()
    {
        using var scope = Tensor.Scope();
        var x = new Variable(Tensor.FromArray(new double[] { 1, 2 }).Reshape(2, 1));
        var w1 = new Variable(Tensor.FromArray(new double[,] { { 0.1, 0.2 }, { 0.3, 0.4 } }), requiresGrad: true);
        var b1 = new Variable(Tensor.FromArray(new double[] { 0.1, 0.1 }).Reshape(2, 1), requiresGrad: true);
        var w2 = new Variable(Tensor.FromArray(new double[,] { { 0.5, 0.6 } }), requiresGrad: true);
        var b2 = new Variable(Tensor.FromArray(new double[] { 0.2 }).Reshape(1, 1), requiresGrad: true);
        var h = (w1.MatMul(x) + b1).Sigmoid();
        var y = (w2.MatMul(h) + b2).Sigmoid();
        var loss = ((y - 1.0) * (y - 1.0) * 0.5).Sum();
        loss.Backward();

        // Forward by hand:
        //   z1 = W1·x + b1 = [0.1 + 0.4 + 0.1, 0.3 + 0.8 + 0.1] = [0.6, 1.2]
        //   h  = σ(z1) = [0.645656306, 0.768524783]
        //   z2 = 0.5·0.645656306 + 0.6·0.768524783 + 0.2 = 0.983943023
        //   y  = σ(z2) = 0.727889897,  L = ½(y − 1)² = 0.037021954
        Assert.Equal(0.03702195398733774, loss.Data.Item<double>(), 12);

        // Backward by hand (chain rule, σ' = σ(1 − σ)):
        //   δ2 = ∂L/∂z2 = (y − y')·y(1 − y) = −0.053895813
        //   ∂L/∂W2 = δ2·hᵀ = [−0.034798171, −0.041420268]      ∂L/∂b2 = δ2
        //   δ1 = ∂L/∂z1 = (W2ᵀ·δ2) ⊙ h(1 − h) = [−0.006165256, −0.005752659]
        //   ∂L/∂W1 = δ1·xᵀ = [[−0.006165256, −0.012330513], [−0.005752659, −0.011505319]]      ∂L/∂b1 = δ1
        double d2 = -0.053895812573653265;
        double[] d1 = [-0.006165256271728812, -0.005752659258597073];
        AssertClose([-0.03479817126734275, -0.04142026768967051], w2.Grad!);
        AssertClose([d2], b2.Grad!);
        AssertClose([d1[0], 2 * d1[0], d1[1], 2 * d1[1]], w1.Grad!);
        AssertClose(d1, b1.Grad!);
    }

    private static void AssertClose(double[] expected, Variable actual)
    {
        var got = actual.Data.ToArray<double>();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 12);
    }

    [Fact]
    public void Second_derivative_of_a_cube()
    {
        using var scope = Tensor.Scope();
        // y = x³:  dy/dx = 3x²,  d²y/dx² = 6x;  at x = 2: 12 and 12
        var x = Leaf(2);
        var y = x * x * x;
        var dy = Autograd.Grad([y.Sum()], [x], createGraph: true)[0];
        Assert.Equal(12.0, dy.Data[0]);
        var d2y = Autograd.Grad([dy.Sum()], [x])[0];
        Assert.Equal(12.0, d2y.Data[0]);
    }

    [Fact]
    public void Hessian_vector_product()
    {
        using var scope = Tensor.Scope();
        // f(x) = Σ x₁²x₂ over pairs: with x = [1, 2], f = x₀²x₁; ∇f = [2x₀x₁, x₀²] = [4, 1];
        // H = [[2x₁, 2x₀], [2x₀, 0]] = [[4, 2], [2, 0]];  H·v for v = [1, 1] = [6, 2]
        var x = Leaf(1, 2);
        var f = (x.Select(0, 0) * x.Select(0, 0) * x.Select(0, 1));
        var grad = Autograd.Grad([f], [x], createGraph: true)[0];
        Assert.Equal(new double[] { 4, 1 }, grad.Data.ToArray<double>());
        var v = new Variable(Tensor.FromArray(new double[] { 1, 1 }));
        var hv = Autograd.Grad([(grad * v).Sum()], [x])[0];
        Assert.Equal(new double[] { 6, 2 }, hv.Data.ToArray<double>());
    }

    [Fact]
    public void Gradient_penalty_trains_through_the_gradient()
    {
        using var scope = Tensor.Scope();
        // P = (‖∂(w·x)/∂x‖² − 1)² = (‖w‖² − 1)²;  ∂P/∂w = 2(‖w‖² − 1)·2w = 4(‖w‖² − 1)·w
        // with w = [1, 2]: ‖w‖² = 5, ∂P/∂w = 16·[1, 2] = [16, 32]
        var x = Leaf(0.3, -0.7);
        var w = Leaf(1, 2);
        var gx = Autograd.Grad([(w * x).Sum()], [x], createGraph: true)[0];
        var penalty = ((gx * gx).Sum() - 1.0).Pow(2);
        penalty.Backward();
        Assert.Equal(new double[] { 16, 32 }, w.Grad!.Data.ToArray<double>());
    }
}

/// <summary>Batch normalisation's running statistics follow PyTorch's update rule.</summary>
public sealed class BatchNormStatisticsTests
{
    [Fact]
    public void Running_statistics_use_momentum_and_the_unbiased_variance()
    {
        using var scope = Tensor.Scope();
        // one channel, batch [1, 2, 3, 6]: mean 3, biased variance 3.5, unbiased 14/3
        var x = new Variable(Tensor.FromArray(new double[] { 1, 2, 3, 6 }).Reshape(4, 1));
        var runningMean = Tensor.Zeros([1], DType.Float64);
        var runningVar = Tensor.Ones([1], DType.Float64);
        var y = Functional.BatchNorm(x, runningMean, runningVar, training: true, momentum: 0.1, eps: 0);
        Assert.Equal(0.1 * 3, runningMean[0], 12);                       // 0.9·0 + 0.1·3
        Assert.Equal(0.9 * 1 + 0.1 * 14.0 / 3, runningVar[0], 12);       // 0.9·1 + 0.1·(14/3)
        Assert.Equal((1 - 3) / Math.Sqrt(3.5), y.Data[0, 0], 12);        // normalised with the biased variance
        var eval = Functional.BatchNorm(x, runningMean, runningVar, training: false, eps: 0);
        Assert.Equal((1 - 0.3) / Math.Sqrt(0.9 + 1.4 / 3), eval.Data[0, 0], 12);
    }
}
