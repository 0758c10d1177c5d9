using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>The README's optimizer example runs (with fewer steps) and does what it says.</summary>
public sealed class OptimReadmeTests
{
    [Fact]
    public void The_readme_optimizer_example_runs()
    {
        using var outer = Tensor.Scope();
        var w = new Parameter(Tensor.RandN([784, 10], 0, 0.01), "w");
        var x = new Variable(Tensor.RandN(64, 784));
        var labels = Tensor.RandInt(0, 10, [64]);
        double Loss()
        {
            using var s = Tensor.Scope();
            using var noGrad = GradMode.NoGrad();
            return Functional.CrossEntropy(x.MatMul(w), labels).Data.Item<double>();
        }
        double before = Loss();

        using var optimizer = new AdamW([w], lr: 1e-3, weightDecay: 0.01);
        var schedule = new LinearWarmup(optimizer, warmupSteps: 5, startFactor: 0.1,
                                        then: new CosineAnnealingLR(optimizer, tMax: 15));
        for (int step = 0; step < 20; step++)
            using (Tensor.Scope())
            {
                optimizer.ZeroGrad();
                Functional.CrossEntropy(x.MatMul(w), labels).Backward();
                GradientClipping.ClipGradNorm([w], maxNorm: 1.0);
                optimizer.Step();
                schedule.Step();
            }
        var checkpoint = optimizer.StateDict();

        Assert.True(Loss() < before, $"loss {before} -> {Loss()}");
        Assert.Equal(20.0, checkpoint["state.0.step"].Item<double>());
        Assert.Equal(new[] { 784, 10 }, checkpoint["state.0.exp_avg"].Shape.ToArray());
        Assert.Equal(1e-3 * (1 + Math.Cos(Math.PI * 15 / 15)) / 2, optimizer.ParamGroups[0].LearningRate, 15);
    }
}
