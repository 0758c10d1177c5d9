namespace Engine.Kernels;

/// <summary>Special functions .NET's Math does not provide, written to run on every backend.</summary>
public static class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126;   // 2/√π
    private const double OneOverSqrtPi = 0.5641895835477563;   // 1/√π

    /// <summary>The error function in float32, computed in float64 and rounded.</summary>
    public static float Erf(float x) => (float)Erf((double)x);

    /// <summary>The error function erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, to about 1e-15 relative.</summary>
    /// <remarks>
    /// For |x| &lt; 2.5 the series erf(x) = 2/√π · e^(-x²) · Σₙ (2x²)ⁿ x / (1·3·5···(2n+1)), whose
    /// terms are all positive (no cancellation). For larger |x|, erfc(x) from its continued fraction
    /// erfc(x) = e^(-x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated from a fixed
    /// depth upward, and erf = 1 - erfc. Beyond |x| = 6, erf(x) = ±1 in double precision.
    /// </remarks>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6.0) return x > 0 ? 1.0 : -1.0;
        double r;
        if (ax < 2.5)
        {
            double x2 = 2.0 * ax * ax, term = ax, sum = ax;
            for (int n = 1; n < 200 && term > 1e-17 * sum; n++)
            {
                term *= x2 / (2 * n + 1);
                sum += term;
            }
            r = TwoOverSqrtPi * Math.Exp(-ax * ax) * sum;
        }
        else
        {
            double f = ax;
            for (int n = 60; n >= 1; n--) f = ax + 0.5 * n / f;
            r = 1.0 - OneOverSqrtPi * Math.Exp(-ax * ax) / f;
        }
        return x < 0 ? -r : (x == 0 ? x : r);
    }
}
