using Engine.Kernels;

namespace Engine.Tests;

/// <summary>The CPU's fast float32 erf (piecewise polynomials fitted at start-up) against the float64 series.</summary>
public sealed class SpecialFunctionTests
{
    [Fact]
    public void Fast_float_erf_is_within_one_ulp_of_the_rounded_series()
    {
        var xs = new List<float> { 0f, -0f, 1e-30f, -1e-30f, 1e-8f, 0.0625f, 0.06249999f, 0.5f, 3.999999f, 4f, -4f, 10f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon };
        var rng = new Random(11);
        for (int i = 0; i < 200_000; i++) xs.Add((float)((rng.NextDouble() * 2 - 1) * 5));
        for (int i = 0; i < 2_000; i++) xs.Add((float)Math.Pow(10, -rng.NextDouble() * 30) * (rng.Next(2) == 0 ? 1 : -1));
        var x = xs.ToArray();
        var y = new float[x.Length];
        SpecialFunctions.Erf(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = SpecialFunctions.Erf(x[i]);
            float ulp = MathF.BitIncrement(MathF.Abs(expected)) - MathF.Abs(expected);
            Assert.True(Math.Abs(y[i] - expected) <= ulp, $"erf({x[i]:R}) = {y[i]:R}, the series gives {expected:R}");
            Assert.Equal(float.IsNegative(x[i]), float.IsNegative(y[i]));
        }
        // the scalar path (what runs without AVX2, and for the last values of a span): one value at a time
        var one = new float[1];
        for (int i = 0; i < x.Length; i += 7)
        {
            SpecialFunctions.Erf(x.AsSpan(i, 1), one);
            Assert.Equal(y[i], one[0]);
        }
        // each vector path over the whole array, where the machine has it (the dispatcher takes the widest)
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            var z = new float[x.Length];
            int done = SpecialFunctions.ErfAvx2(x, z);
            for (int i = 0; i < done; i++) Assert.Equal(y[i], z[i]);
        }
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            var z = new float[x.Length];
            int done = SpecialFunctions.ErfAvx512(x, z);
            for (int i = 0; i < done; i++) Assert.Equal(y[i], z[i]);
        }
        var nan = new float[1];
        SpecialFunctions.Erf([float.NaN], nan);
        Assert.True(float.IsNaN(nan[0]));
    }
}
