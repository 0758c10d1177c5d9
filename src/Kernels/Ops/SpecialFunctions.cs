using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels;

/// <summary>Special functions .NET's Math does not provide, written to run on every backend.</summary>
internal static class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126;   // 2/√π

    /// <summary>The error function in float32, computed in float64 and rounded.</summary>
    public static float Erf(float x) => (float)Erf((double)x);

    /// <summary>The error function erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, to about 1e-15 relative.</summary>
    public static double Erf(double x) => Erf<double>(x);

    /// <summary>The error function in <typeparamref name="T"/>'s own arithmetic (1e-15 relative in double, a few ulp in float).</summary>
    /// <remarks>
    /// For |x| &lt; 2.5 the series erf(x) = 2/√π · e^(-x²) · Σₙ (2x²)ⁿ x / (1·3·5···(2n+1)), whose
    /// terms are all positive (no cancellation), summed until a term no longer changes the sum. For larger |x|,
    /// erfc(x) from its continued fraction erfc(x) = e^(-x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + 2/(x + …))))),
    /// evaluated from depth 60 upward, and erf = 1 - erfc. Beyond |x| = 6, erf(x) = ±1 in double precision.
    /// Every constant is built from <c>T.One</c> and <c>T.Pi</c>: ILGPU compiles generic arithmetic but not generic
    /// conversions (<c>T.CreateTruncating</c>), and the GPU kernels run this.
    /// </remarks>
    public static T Erf<T>(T x) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        if (T.IsNaN(x)) return x;
        T one = T.One, two = one + one, half = one / two;
        T ax = T.IsNegative(x) ? -x : x;
        if (ax >= two * (two + one)) return x > T.Zero ? one : -one;
        T r;
        if (ax < two + half)
        {
            T x2 = two * ax * ax, term = ax, sum = ax, d = one;
            for (int n = 1; n < 200; n++)
            {
                d += two;
                term *= x2 / d;
                T next = sum + term;
                if (next == sum) break;
                sum = next;
            }
            r = two / T.Sqrt(T.Pi) * T.Exp(-ax * ax) * sum;
        }
        else
        {
            T f = ax, depth = T.Zero;
            for (int n = 0; n < 60; n++) depth += one;
            for (int n = 60; n >= 1; n--, depth -= one) f = ax + half * depth / f;
            r = one - one / T.Sqrt(T.Pi) * T.Exp(-ax * ax) / f;
        }
        return x < T.Zero ? -r : (x == T.Zero ? x : r);
    }

    /// <summary>
    /// erf over float32 values, for the CPU's span path: the same values as <see cref="Erf(float)"/> to within
    /// one float ulp, at a few nanoseconds each instead of a series per value. On [0, 4) erf is 8 pieces of
    /// width ½, each a degree-11 polynomial in u ∈ [−1, 1] fitted when this class is first used (Chebyshev
    /// interpolation of <see cref="Erf(double)"/>, then turned into powers of u); below 1/16, erf's Taylor
    /// series (so tiny values keep their relative precision); from 4 on, ±1 (erfc(4) ≈ 1.5e-8 rounds away).
    /// </summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Avx512F.IsSupported && x.Length >= 8) i = ErfAvx512(x, y);
        if (Avx2.IsSupported && x.Length - i >= 4) i += ErfAvx2(x[i..], y[i..]);
        for (; i < x.Length; i++) y[i] = ErfPiecewise(x[i]);
    }

    private static float ErfPiecewise(float value)
    {
        double v = value, a = Math.Abs(v), r;
        if (!(a < 4.0)) r = double.IsNaN(v) ? v : 1.0;
        else if (a < SmallErf) r = ErfTaylor(a);
        else
        {
            int piece = (int)(a * 2);
            double u = (a - (piece * 0.5 + 0.25)) * 4;
            r = 0;
            for (int k = ErfDegree; k >= 0; k--) r = r * u + s_erfByPower[k * ErfPieces + piece];
        }
        return (float)(v < 0 ? -r : v == 0 ? v : r);
    }

    private const double SmallErf = 0.0625;

    /// <summary>erf near 0 from its Taylor series: 2/√π·x·(1 − x²/3 + x⁴/10 − x⁶/42), good to 1e-12 relative below 1/16.</summary>
    private static double ErfTaylor(double a)
    {
        double a2 = a * a;
        return TwoOverSqrtPi * a * (1 - a2 * (1.0 / 3 - a2 * (0.1 - a2 * (1.0 / 42))));
    }

    /// <summary>
    /// Four values at a time, without branches. Each lane's coefficient of uᵏ is picked from the 8 pieces'
    /// by two in-register permutes (pieces 0-3 and 4-7, as pairs of 32-bit halves) and a blend.
    /// </summary>
    internal static unsafe int ErfAvx2(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length & ~3;
        var signMask = Vector256.Create(-0.0);
        var below4 = Vector256.Create(3.9999999999);
        var one = Vector256.Create(1.0);
        var lows = s_erfLow;
        var highs = s_erfHigh;
        fixed (float* px = x, py = y)
        {
            for (int i = 0; i < n; i += 4)
            {
                var v = Avx.ConvertToVector256Double(Sse.LoadVector128(px + i));
                var a = Avx.AndNot(signMask, v);
                // NaN and values from 4 on are evaluated at 3.99… and replaced below
                var clamped = Avx.Min(a, below4);
                var piece = Avx.ConvertToVector128Int32WithTruncation(Avx.Multiply(clamped, Vector256.Create(2.0)));
                var start = Avx.Add(Avx.Multiply(Avx.ConvertToVector256Double(piece), Vector256.Create(0.5)), Vector256.Create(0.25));
                var u = Avx.Multiply(Avx.Subtract(clamped, start), Vector256.Create(4.0));
                var q = Avx2.ConvertToVector256Int64(Sse2.And(piece, Vector128.Create(3)));
                // lane j reads the 32-bit halves 2p and 2p + 1 of its 4-piece table
                var pairs = Avx2.Or(Avx2.ShiftLeftLogical(q, 1), Avx2.Or(Avx2.ShiftLeftLogical(q, 33), Vector256.Create(1L << 32))).AsInt32();
                var high = Avx2.CompareGreaterThan(Avx2.ConvertToVector256Int64(piece), Vector256.Create(3L)).AsDouble();
                Vector256<double> Coefficient(int k) => Avx.BlendVariable(
                    Avx2.PermuteVar8x32(lows[k].AsSingle(), pairs).AsDouble(), Avx2.PermuteVar8x32(highs[k].AsSingle(), pairs).AsDouble(), high);
                var r = Coefficient(ErfDegree);
                for (int k = ErfDegree - 1; k >= 0; k--) r = Avx.Add(Avx.Multiply(r, u), Coefficient(k));
                var a2 = Avx.Multiply(a, a);
                var taylor = Avx.Multiply(Avx.Multiply(Vector256.Create(TwoOverSqrtPi), a),
                    Avx.Subtract(one, Avx.Multiply(a2, Avx.Subtract(Vector256.Create(1.0 / 3), Avx.Multiply(a2, Avx.Subtract(Vector256.Create(0.1), Avx.Multiply(a2, Vector256.Create(1.0 / 42))))))));
                r = Avx.BlendVariable(r, taylor, Avx.Compare(a, Vector256.Create(SmallErf), FloatComparisonMode.OrderedLessThanNonSignaling));
                r = Avx.BlendVariable(r, one, Avx.Compare(a, Vector256.Create(4.0), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling));
                r = Avx.Or(r, Avx.And(v, signMask));
                r = Avx.BlendVariable(r, v, Avx.Compare(v, v, FloatComparisonMode.UnorderedNonSignaling));
                Sse.Store(py + i, Avx.ConvertToVector128Single(r));
            }
        }
        return n;
    }

    private const int ErfPieces = 8, ErfDegree = 11;
    private static readonly double[] s_erfByPower = FitErfPieces();

    /// <summary>Eight values per vector, four vectors at a time: all 8 pieces' coefficients of one power fit one register, picked per lane by one permute.</summary>
    internal static unsafe int ErfAvx512(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length & ~7, i = 0;
        var table = s_erfAll;
        fixed (float* px = x, py = y)
        {
            // four vectors at a time: their Horner chains interleaved, so the FMAs' latency overlaps (one chain alone
            // waited on each of its twelve dependent steps: 1.16 ms for 1.5 M values)
            for (; i + 32 <= n; i += 32)
            {
                var v0 = Avx512F.ConvertToVector512Double(Avx.LoadVector256(px + i));
                var v1 = Avx512F.ConvertToVector512Double(Avx.LoadVector256(px + i + 8));
                var v2 = Avx512F.ConvertToVector512Double(Avx.LoadVector256(px + i + 16));
                var v3 = Avx512F.ConvertToVector512Double(Avx.LoadVector256(px + i + 24));
                var (u0, i0) = ErfPiece(v0);
                var (u1, i1) = ErfPiece(v1);
                var (u2, i2) = ErfPiece(v2);
                var (u3, i3) = ErfPiece(v3);
                Vector512<double> r0 = Avx512F.PermuteVar8x64(table[ErfDegree], i0), r1 = Avx512F.PermuteVar8x64(table[ErfDegree], i1),
                                  r2 = Avx512F.PermuteVar8x64(table[ErfDegree], i2), r3 = Avx512F.PermuteVar8x64(table[ErfDegree], i3);
                for (int k = ErfDegree - 1; k >= 0; k--)
                {
                    var c = table[k];
                    r0 = r0 * u0 + Avx512F.PermuteVar8x64(c, i0);
                    r1 = r1 * u1 + Avx512F.PermuteVar8x64(c, i1);
                    r2 = r2 * u2 + Avx512F.PermuteVar8x64(c, i2);
                    r3 = r3 * u3 + Avx512F.PermuteVar8x64(c, i3);
                }
                Avx.Store(py + i, Avx512F.ConvertToVector256Single(ErfFinish(v0, r0)));
                Avx.Store(py + i + 8, Avx512F.ConvertToVector256Single(ErfFinish(v1, r1)));
                Avx.Store(py + i + 16, Avx512F.ConvertToVector256Single(ErfFinish(v2, r2)));
                Avx.Store(py + i + 24, Avx512F.ConvertToVector256Single(ErfFinish(v3, r3)));
            }
            for (; i < n; i += 8)
            {
                var v = Avx512F.ConvertToVector512Double(Avx.LoadVector256(px + i));
                var (u, index) = ErfPiece(v);
                var r = Avx512F.PermuteVar8x64(table[ErfDegree], index);
                for (int k = ErfDegree - 1; k >= 0; k--) r = r * u + Avx512F.PermuteVar8x64(table[k], index);
                Avx.Store(py + i, Avx512F.ConvertToVector256Single(ErfFinish(v, r)));
            }
        }
        return n;
    }

    /// <summary>For eight values: the position u in [−1, 1) within each one's piece of [0, 4), and the piece's index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<double> U, Vector512<long> Index) ErfPiece(Vector512<double> v)
    {
        var clamped = Avx512F.Min(Vector512.AndNot(v, Vector512.Create(-0.0)), Vector512.Create(3.9999999999));
        var piece = Avx512F.ConvertToVector256Int32WithTruncation(clamped * 2.0);
        var start = Avx512F.ConvertToVector512Double(piece) * 0.5 + Vector512.Create(0.25);
        return ((clamped - start) * 4.0, Avx512F.ConvertToVector512Int64(piece));
    }

    /// <summary>erf of eight values from the piece polynomial's value <paramref name="r"/> at |v|: the Taylor series below 1/16, 1 from 4 up, the sign, NaN kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ErfFinish(Vector512<double> v, Vector512<double> r)
    {
        var signMask = Vector512.Create(-0.0);
        var one = Vector512.Create(1.0);
        var a = Vector512.AndNot(v, signMask);
        var a2 = a * a;
        var taylor = Vector512.Create(TwoOverSqrtPi) * a * (one - a2 * (Vector512.Create(1.0 / 3) - a2 * (Vector512.Create(0.1) - a2 * Vector512.Create(1.0 / 42))));
        r = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(SmallErf)), taylor, r);
        r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512.Create(4.0)), one, r);
        r |= v & signMask;
        return Vector512.ConditionalSelect(Vector512.Equals(v, v), r, v);
    }

    /// <summary>Per power k, pieces 0-3's (<see cref="s_erfLow"/>) and 4-7's (<see cref="s_erfHigh"/>) coefficients as vectors.</summary>
    private static readonly Vector256<double>[] s_erfLow = [.. Enumerable.Range(0, ErfDegree + 1).Select(k => Vector256.Create(s_erfByPower.AsSpan(k * ErfPieces, 4)))];
    private static readonly Vector512<double>[] s_erfAll = [.. Enumerable.Range(0, ErfDegree + 1).Select(k => Vector512.Create(s_erfByPower.AsSpan(k * ErfPieces, 8)))];
    private static readonly Vector256<double>[] s_erfHigh = [.. Enumerable.Range(0, ErfDegree + 1).Select(k => Vector256.Create(s_erfByPower.AsSpan(k * ErfPieces + 4, 4)))];

    /// <summary>The coefficient of uᵏ in piece p at [k · pieces + p] (so a power's 8 coefficients are adjacent, for gathers).</summary>
    private static double[] FitErfPieces()
    {
        int n = ErfDegree + 1;
        var table = new double[ErfPieces * n];
        for (int p = 0; p < ErfPieces; p++)
        {
            double mid = p * 0.5 + 0.25, half = 0.25;
            // Chebyshev coefficients from the values at the n Chebyshev nodes
            var f = new double[n];
            for (int k = 0; k < n; k++) f[k] = Erf(mid + half * Math.Cos(Math.PI * (k + 0.5) / n));
            var c = new double[n];
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++) sum += f[k] * Math.Cos(Math.PI * j * (k + 0.5) / n);
                c[j] = 2.0 / n * sum;
            }
            c[0] /= 2;
            // Σ cⱼ Tⱼ(u) as powers of u, with T₀ = 1, T₁ = u, Tⱼ₊₁ = 2u·Tⱼ − Tⱼ₋₁
            var previous = new double[n];
            var current = new double[n];
            previous[0] = 1;
            current[1] = 1;
            var power = new double[n];
            power[0] += c[0];
            for (int i = 0; i < n; i++) power[i] += c[1] * current[i];
            for (int j = 2; j < n; j++)
            {
                var next = new double[n];
                for (int i = 0; i < n; i++) next[i] = (i > 0 ? 2 * current[i - 1] : 0) - previous[i];
                for (int i = 0; i < n; i++) power[i] += c[j] * next[i];
                (previous, current) = (current, next);
            }
            for (int k = 0; k < n; k++) table[k * ErfPieces + p] = power[k];
        }
        return table;
    }
}

