using Engine.Layers;

namespace Engine.Tests;

/// <summary>
/// Second-order gradients through a CNN with batch normalisation and pooling: the gradient of a
/// gradient penalty matches finite differences, and a WGAN-GP style step trains the layers.
/// </summary>
public sealed class SecondOrderTests
{
    private static Tensor U(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextDouble() * 2 - 1;
        return Tensor.FromArray(v).Reshape(shape);
    }

    /// <summary>D(x): conv → batch norm (batch statistics) → tanh → max pool → average pool → layer norm → linear, summed.</summary>
    private static Variable Critic(Variable x, Variable w, Variable gamma, Variable beta, Variable head)
    {
        var h = x.Conv2d(w, null, new Conv2dOptions { Padding = 1 });
        h = Functional.BatchNorm(h, weight: gamma, bias: beta, training: true).Tanh();
        h = h.MaxPool2d(new Pool2dOptions(2) { Stride = 2 });
        h = h.AvgPool2d(new Pool2dOptions(2) { Stride = 1, Padding = 1, CountIncludePad = false });
        h = Functional.LayerNorm(h, [h.Shape[1], h.Shape[2], h.Shape[3]]);
        return (h.Reshape(h.Shape[0], -1).MatMul(head)).Sum();
    }

    /// <summary>P = (‖∂D/∂x‖² − 1)², the gradient penalty of WGAN-GP (one norm over the whole batch).</summary>
    private static Variable Penalty(Variable[] v)
    {
        var d = Critic(v[0], v[1], v[2], v[3], v[4]);
        var gx = Autograd.Grad([d], [v[0]], createGraph: true)[0];
        return ((gx * gx).Sum() - 1.0).Pow(2);
    }

    [Fact]
    public void The_gradient_of_a_gradient_penalty_through_batch_norm_and_pooling_matches_finite_differences()
    {
        using var scope = Tensor.Scope();
        // x [3, 1, 6, 6], conv 1→2 channels 3×3, batch-norm scale and shift, pooled to [3, 2, 4, 4] → 32 features → 1
        Tensor[] inputs = [U(1, 3, 1, 6, 6), U(2, 2, 1, 3, 3), U(3, 2) + 1.5, U(4, 2), U(5, 32, 1)];
        var r = GradCheck.Run(Penalty, inputs, name: "gradient penalty");
        Assert.True(r.Passed, r.Failure);
    }

    [Fact]
    public void A_gradient_penalty_step_trains_a_cnn_of_layers()
    {
        using var scope = Tensor.Scope();
        var g = new Generator(11);
        var critic = new Sequential(new Conv2d(1, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new LeakyReLU(0.2), new MaxPool2d(2),
            new Conv2d(4, 4, 3, padding: 1, generator: g), new LayerNorm([4, 4, 4]), new AvgPool2d(2), new Flatten(), new Linear(16, 1, generator: g));
        critic.Train();
        var optimizer = new Engine.Optim.Adam(critic.Parameters(), 1e-2);
        var x = new Variable(Tensor.RandN([8, 1, 8, 8], 0, 1, generator: g), requiresGrad: true);
        double first = 0, last = 0;
        for (int step = 0; step < 25; step++)
        {
            optimizer.ZeroGrad();
            var gx = Autograd.Grad([critic.Forward(x).Sum()], [x], createGraph: true)[0];
            var norms = (gx * gx).Sum([1, 2, 3]).Sqrt();
            var penalty = ((norms - 1.0) * (norms - 1.0)).Mean();
            penalty.Backward();
            // every weight reaches ∂D/∂x; shifts after which the network is piecewise linear (batch norm's β
            // before the LeakyReLU, layer norm's β and the head's bias) do not, and get no gradient
            foreach (var (name, p) in critic.NamedParameters())
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal)) Assert.True(p.Grad is not null, $"{name} gets a gradient through the penalty");
                if (p.Grad is not null) Assert.True(p.Grad.Data.AllFinite(), $"{name}'s gradient is finite");
            }
            optimizer.Step();
            if (step == 0) first = penalty.Data.Item<float>();
            last = penalty.Data.Item<float>();
        }
        Assert.True(last < first / 4, $"the penalty fell from {first:G4} to {last:G4} in 25 steps; expected below a quarter");
    }
}
