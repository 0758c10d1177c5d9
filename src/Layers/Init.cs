namespace Engine.Layers;

/// <summary>
/// Weight initialisers, all drawing from a seeded <see cref="Generator"/> (the default one unless
/// given), so a seed reproduces a model. fan_in and fan_out of a weight [out, in, k…] are in·Πk
/// and out·Πk.
/// </summary>
public static class Init
{
    /// <summary>(fan_in, fan_out) of a weight shape.</summary>
    public static (long FanIn, long FanOut) Fans(ReadOnlySpan<int> shape)
    {
        if (shape.Length < 2) throw Errors.ShapeError("Init", shape, "fan in and out need at least two dims");
        long receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>The gain of a nonlinearity: √2 for relu, √(2/(1 + a²)) for leaky relu with slope a, 1 for linear.</summary>
    public static double Gain(string nonlinearity, double a = 0) => nonlinearity switch
    {
        "relu" => Math.Sqrt(2),
        "leaky_relu" => Math.Sqrt(2 / (1 + a * a)),
        "tanh" => 5.0 / 3,
        "linear" or "sigmoid" or "conv" => 1,
        _ => throw new EngineException($"Init.Gain: unknown nonlinearity '{nonlinearity}'; known: relu, leaky_relu, tanh, linear, sigmoid, conv"),
    };

    private static void Fill(Tensor t, Tensor values)
    {
        using (values) t.CopyFrom(values);
    }

    /// <summary>Uniform on [−b, b] with b = gain·√(3/fan), fan = fan_in (default) or fan_out (He et al. 2015).</summary>
    public static Tensor KaimingUniform(Tensor t, double a = 0, bool fanOut = false, string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        var (fi, fo) = Fans(t.Shape);
        double bound = Gain(nonlinearity, a) * Math.Sqrt(3.0 / (fanOut ? fo : fi));
        Fill(t, Tensor.Rand(t.Shape.ToArray(), -bound, bound, t.DType, generator));
        return t;
    }

    /// <summary>Normal with std = gain/√fan (He et al. 2015).</summary>
    public static Tensor KaimingNormal(Tensor t, double a = 0, bool fanOut = false, string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        var (fi, fo) = Fans(t.Shape);
        Fill(t, Tensor.RandN(t.Shape.ToArray(), 0, Gain(nonlinearity, a) / Math.Sqrt(fanOut ? fo : fi), t.DType, generator));
        return t;
    }

    /// <summary>Uniform on [−b, b] with b = gain·√(6/(fan_in + fan_out)) (Glorot and Bengio 2010).</summary>
    public static Tensor XavierUniform(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = Fans(t.Shape);
        double bound = gain * Math.Sqrt(6.0 / (fi + fo));
        Fill(t, Tensor.Rand(t.Shape.ToArray(), -bound, bound, t.DType, generator));
        return t;
    }

    /// <summary>Normal with std = gain·√(2/(fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = Fans(t.Shape);
        Fill(t, Tensor.RandN(t.Shape.ToArray(), 0, gain * Math.Sqrt(2.0 / (fi + fo)), t.DType, generator));
        return t;
    }

    /// <summary>Uniform on [low, high).</summary>
    public static Tensor Uniform(Tensor t, double low, double high, Generator? generator = null)
    {
        Fill(t, Tensor.Rand(t.Shape.ToArray(), low, high, t.DType, generator));
        return t;
    }

    /// <summary>All zeros.</summary>
    public static Tensor Zeros(Tensor t) => t.FillInPlace(0);

    /// <summary>All <paramref name="value"/>.</summary>
    public static Tensor Constant(Tensor t, double value) => t.FillInPlace(value);
}
