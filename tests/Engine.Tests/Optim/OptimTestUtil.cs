using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Small helpers for optimizer tests: parameters with hand-set gradients, and comparisons.</summary>
internal static class OptimTestUtil
{
    /// <summary>A float64 parameter with the given values.</summary>
    public static Parameter Param(params double[] values) => new(Tensor.FromArray(values), "p");

    /// <summary>A float64 parameter of the given shape filled with <paramref name="value"/>.</summary>
    public static Parameter Param(int[] shape, double value) => new(Tensor.Full(shape, value, DType.Float64), "p");

    /// <summary>Replaces the gradient of <paramref name="p"/> by <paramref name="g"/> (in the parameter's dtype), as a backward pass would leave it.</summary>
    public static void SetGrad(Parameter p, params double[] g)
    {
        p.ZeroGrad();
        using var t = Tensor.FromArray(g).Reshape(p.Data.Shape.ToArray());
        p.Grad = new Variable(TensorScope.Escape(t.To(p.DType)));
    }

    /// <summary>Sets the gradient of each parameter and takes one optimizer step.</summary>
    public static void StepWith(Optimizer opt, Parameter p, params double[] g)
    {
        SetGrad(p, g);
        opt.Step();
    }

    /// <summary>The parameter's values as doubles.</summary>
    public static double[] Values(Parameter p) => Values(p.Data);

    /// <summary>A tensor's values as doubles.</summary>
    public static double[] Values(Tensor t)
    {
        using var d = t.To(DType.Float64);
        return d.ToArray<double>();
    }

    /// <summary>Asserts that <paramref name="actual"/> matches <paramref name="expected"/> to a relative tolerance (float64 arithmetic: 1e-12).</summary>
    public static void Near(double[] expected, double[] actual, double rtol = 1e-12, double atol = 1e-15)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i]),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (difference {actual[i] - expected[i]:E3})");
    }

    /// <summary>Asserts that the parameter now holds <paramref name="expected"/>.</summary>
    public static void Near(Parameter p, params double[] expected) => Near(expected, Values(p));
}
