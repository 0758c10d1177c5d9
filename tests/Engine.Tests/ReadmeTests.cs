namespace Engine.Tests;

/// <summary>The README's example runs and says what the README says it says.</summary>
public sealed class ReadmeTests
{
    [Fact]
    public void The_readme_example_runs()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.RandN(64, 784);
        var w = Tensor.RandN([784, 128], 0, 0.05);
        var h = (x.MatMul(w) + 0.1).Relu();
        var p = h.Softmax(axis: 1);
        // rows of a softmax sum to 1 up to rounding: printed as "1." or "1.0000"
        Assert.Matches(@"^tensor\(1\.(0000)?, shape=\[\], dtype=float32, device=cpu\)$", p.Sum(1).Mean().ToString());
        var img = Tensor.Rand(8, 3, 32, 32);
        var y = img.Conv2d(Tensor.RandN(16, 3, 3, 3), padding: 1).MaxPool2d(2);
        Assert.Equal(new[] { 8, 16, 16, 16 }, y.Shape.ToArray());
    }

    [Fact]
    public void The_readme_autograd_example_runs()
    {
        using var scope = Tensor.Scope();
        var w = new Parameter(Tensor.RandN([784, 10], 0, 0.01), "w");
        var x = new Variable(Tensor.RandN(64, 784));
        var labels = Tensor.RandInt(0, 10, [64]);
        var loss = Functional.CrossEntropy(x.MatMul(w), labels, labelSmoothing: 0.1);
        loss.Backward();
        Assert.Equal(new[] { 784, 10 }, w.Grad!.Shape.ToArray());
        Assert.Contains("w [784, 10] float32", loss.ToMermaid());
        w.ZeroGrad();
    }
}
