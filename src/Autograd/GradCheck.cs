namespace Engine;

/// <summary>Settings of <see cref="GradCheck"/>; the defaults are PyTorch's.</summary>
public sealed record GradCheckOptions
{
    /// <summary>The finite-difference step.</summary>
    public double Eps { get; init; } = 1e-6;
    /// <summary>Absolute tolerance.</summary>
    public double Atol { get; init; } = 1e-5;
    /// <summary>Relative tolerance (to the numerical value).</summary>
    public double Rtol { get; init; } = 1e-3;
    /// <summary>Compare random projections vᵀJu instead of whole Jacobians (for large inputs).</summary>
    public bool FastMode { get; init; }
    /// <summary>Seed of the random projections and upstream gradients.</summary>
    public int Seed { get; init; } = 20261129;
}

/// <summary>What <see cref="GradCheck"/> found: the worst disagreement, and the first failure if any.</summary>
/// <param name="Name">The function checked.</param>
/// <param name="Passed">True when every check passed.</param>
/// <param name="Failure">What failed, with the input, the element and both values; null when passed.</param>
/// <param name="WorstError">The largest |analytic − numeric| seen.</param>
/// <param name="WorstInput">The input holding it.</param>
/// <param name="WorstElement">Its flat element index within that input.</param>
/// <param name="Analytic">The analytic value there.</param>
/// <param name="Numeric">The numerical value there.</param>
public sealed record GradCheckResult(string Name, bool Passed, string? Failure, double WorstError, int WorstInput, long WorstElement, double Analytic, double Numeric);

/// <summary>Thrown by <see cref="GradCheck.Assert"/> when a check fails.</summary>
public sealed class GradCheckException(string message) : Exception(message);

/// <summary>
/// Checks a function's analytic gradients against central finite differences in float64,
/// ∂f/∂x ≈ (f(x + ε) − f(x − ε)) / 2ε, element by element (or by random projections in fast mode),
/// plus PyTorch's extra checks: a zero upstream gradient gives zero input gradients, backward twice
/// gives identical results, and gradients have their inputs' shapes and dtypes.
/// </summary>
public static class GradCheck
{
    /// <summary>Runs every check and returns what it found.</summary>
    /// <param name="f">The function, of variables made from <paramref name="inputs"/>.</param>
    /// <param name="inputs">Float64 tensors (any layout); each becomes a leaf that requires gradients.</param>
    /// <param name="options">Tolerances and mode.</param>
    /// <param name="name">The function's name in messages.</param>
    public static GradCheckResult Run(Func<Variable[], Variable> f, Tensor[] inputs, GradCheckOptions? options = null, string name = "function")
    {
        var o = options ?? new GradCheckOptions();
        foreach (var t in inputs)
            if (t.DType != DType.Float64)
                throw new EngineException($"GradCheck({name}): inputs must be float64 for finite differences, not {t.DType.Name()}");
        using var scope = Tensor.Scope();
        var x = inputs.Select(t => new Variable(t, requiresGrad: true)).ToArray();
        var y = f(x);
        if (y.DType != DType.Float64)
            return Fail(name, $"the output is {y.DType.Name()}, not float64");
        var shapes = inputs.Select(t => t.Shape.ToArray()).ToArray();
        var host = inputs.Select(t => t.Contiguous().ToArray<double>()).ToArray();
        var rng = new Random(o.Seed);

        // PyTorch's extra checks
        if (y.RequiresGrad)
        {
            var zero = Autograd.Grad([y], x, [new Variable(Tensor.ZerosLike(y.Data))], retainGraph: true);
            for (int i = 0; i < x.Length; i++)
            {
                if (!zero[i].Shape.SequenceEqual(shapes[i]) || zero[i].DType != DType.Float64)
                    return Fail(name, $"input {i}: the gradient has shape {Errors.Shape(zero[i].Shape)} and dtype {zero[i].DType.Name()}, the input {Errors.Shape(shapes[i])} and float64");
                double m = zero[i].Numel == 0 ? 0 : zero[i].Data.Abs().Max().Item<double>();
                if (m != 0) return Fail(name, $"input {i}: a zero upstream gradient gave a gradient with an element of magnitude {m}");
            }
            var seed = new Variable(RandomLike(y.Data, rng));
            var first = Autograd.Grad([y], x, [seed], retainGraph: true);
            var second = Autograd.Grad([y], x, [seed], retainGraph: true);
            for (int i = 0; i < x.Length; i++)
                if (!first[i].Data.ToArray<double>().SequenceEqual(second[i].Data.ToArray<double>()))
                    return Fail(name, $"input {i}: backward twice with the same upstream gradient gave different results");
        }

        return o.FastMode ? Projected(f, y, x, shapes, host, o, rng, name) : FullJacobian(f, y, x, shapes, host, o, name);
    }

    /// <summary>Runs <see cref="Run"/> and throws <see cref="GradCheckException"/> on failure.</summary>
    public static void Assert(Func<Variable[], Variable> f, Tensor[] inputs, GradCheckOptions? options = null, string name = "function")
    {
        var r = Run(f, inputs, options, name);
        if (!r.Passed) throw new GradCheckException(r.Failure!);
    }

    /// <summary>
    /// Checks second derivatives: GradCheck of x, v ↦ (∂⟨v, f(x)⟩/∂x), the gradient computed with
    /// <c>createGraph: true</c>, flattened into one output. v is a random upstream gradient that is
    /// checked as an input too.
    /// </summary>
    public static GradCheckResult RunGradGrad(Func<Variable[], Variable> f, Tensor[] inputs, GradCheckOptions? options = null, string name = "function")
    {
        var o = options ?? new GradCheckOptions();
        using var scope = Tensor.Scope();
        Tensor outShape;
        using (GradMode.NoGrad()) outShape = f([.. inputs.Select(t => new Variable(t))]).Data;
        var v = RandomLike(outShape, new Random(o.Seed + 1));
        Variable Gradient(Variable[] args)
        {
            var xs = args[..^1];
            var y = f(xs);
            var grads = Autograd.Grad([y], xs, [args[^1]], createGraph: true);
            return Variable.Concat([.. grads.Select(g => g.Reshape(-1))]);
        }
        var r = Run(Gradient, [.. inputs, v], o, name + " (second order)");
        return r;
    }

    /// <summary>Runs <see cref="RunGradGrad"/> and throws <see cref="GradCheckException"/> on failure.</summary>
    public static void AssertGradGrad(Func<Variable[], Variable> f, Tensor[] inputs, GradCheckOptions? options = null, string name = "function")
    {
        var r = RunGradGrad(f, inputs, options, name);
        if (!r.Passed) throw new GradCheckException(r.Failure!);
    }

    private static GradCheckResult Fail(string name, string why) =>
        new(name, false, $"GradCheck failed for {name}: {why}", double.NaN, -1, -1, double.NaN, double.NaN);

    private static Tensor RandomLike(Tensor like, Random rng)
    {
        var v = new double[like.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextDouble() * 2 - 1;
        using var flat = Tensor.FromArray(v);
        return flat.Reshape(like.Shape.ToArray());
    }

    /// <summary>f evaluated on host values (as leaves that require gradients: f may itself take gradients, as in second-order checks).</summary>
    private static double[] Evaluate(Func<Variable[], Variable> f, double[][] host, int[][] shapes)
    {
        using var scope = Tensor.Scope();
        var args = host.Select((h, i) => new Variable(Tensor.FromArray(h).Reshape(shapes[i]), requiresGrad: true)).ToArray();
        return f(args).Data.Contiguous().ToArray<double>();
    }

    private static GradCheckResult FullJacobian(Func<Variable[], Variable> f, Variable y, Variable[] x, int[][] shapes, double[][] host, GradCheckOptions o, string name)
    {
        long m = y.Numel;
        // analytic: row j of every input's Jacobian from one backward with a one-hot upstream gradient
        var analytic = x.Select(v => new double[m, v.Numel]).ToArray();
        if (y.RequiresGrad)
            for (long j = 0; j < m; j++)
            {
                var e = new double[m];
                e[j] = 1;
                using var scope = Tensor.Scope();
                var seed = new Variable(Tensor.FromArray(e).Reshape(y.Shape.ToArray()));
                var grads = Autograd.Grad([y], x, [seed], retainGraph: true);
                for (int i = 0; i < x.Length; i++)
                {
                    var gi = grads[i].Data.Contiguous().ToArray<double>();
                    for (long k = 0; k < gi.Length; k++) analytic[i][j, k] = gi[k];
                }
            }
        var worst = new GradCheckResult(name, true, null, 0, -1, -1, 0, 0);
        for (int i = 0; i < x.Length; i++)
            for (long k = 0; k < host[i].Length; k++)
            {
                double saved = host[i][k];
                host[i][k] = saved + o.Eps;
                var plus = Evaluate(f, host, shapes);
                host[i][k] = saved - o.Eps;
                var minus = Evaluate(f, host, shapes);
                host[i][k] = saved;
                for (long j = 0; j < m; j++)
                {
                    double numeric = (plus[j] - minus[j]) / (2 * o.Eps), a = analytic[i][j, k];
                    double err = Math.Abs(a - numeric);
                    if (double.IsNaN(err) || err > worst.WorstError) worst = worst with { WorstError = err, WorstInput = i, WorstElement = k, Analytic = a, Numeric = numeric };
                    if (!(err <= o.Atol + o.Rtol * Math.Abs(numeric)))
                        return worst with
                        {
                            Passed = false,
                            Failure = $"GradCheck failed for {name}: input {i} (shape {Errors.Shape(shapes[i])}) element {k} " +
                                      $"[{string.Join(", ", Unravel(k, shapes[i]))}], output element {j}: analytic {a:R}, numeric {numeric:R}",
                        };
                }
            }
        return worst;
    }

    private static GradCheckResult Projected(Func<Variable[], Variable> f, Variable y, Variable[] x, int[][] shapes, double[][] host, GradCheckOptions o, Random rng, string name)
    {
        // vᵀ J u for random unit directions u (one input at a time, so a failure names the input)
        var v = new Variable(RandomLike(y.Data, rng));
        var vHost = v.Data.Contiguous().ToArray<double>();
        var grads = y.RequiresGrad ? Autograd.Grad([y], x, [v], retainGraph: true) : x.Select(t => new Variable(Tensor.ZerosLike(t.Data))).ToArray();
        var worst = new GradCheckResult(name, true, null, 0, -1, -1, 0, 0);
        for (int i = 0; i < x.Length; i++)
        {
            var u = new double[host[i].Length];
            double norm = 0;
            for (int k = 0; k < u.Length; k++) { u[k] = rng.NextDouble() * 2 - 1; norm += u[k] * u[k]; }
            norm = Math.Sqrt(norm);
            if (norm == 0) continue;
            for (int k = 0; k < u.Length; k++) u[k] /= norm;
            var g = grads[i].Data.Contiguous().ToArray<double>();
            double analytic = 0;
            for (int k = 0; k < u.Length; k++) analytic += g[k] * u[k];
            var saved = (double[])host[i].Clone();
            for (int k = 0; k < u.Length; k++) host[i][k] = saved[k] + o.Eps * u[k];
            var plus = Evaluate(f, host, shapes);
            for (int k = 0; k < u.Length; k++) host[i][k] = saved[k] - o.Eps * u[k];
            var minus = Evaluate(f, host, shapes);
            host[i] = saved;
            double numeric = 0;
            for (int j = 0; j < vHost.Length; j++) numeric += vHost[j] * (plus[j] - minus[j]) / (2 * o.Eps);
            double err = Math.Abs(analytic - numeric);
            if (double.IsNaN(err) || err > worst.WorstError) worst = worst with { WorstError = err, WorstInput = i, WorstElement = -1, Analytic = analytic, Numeric = numeric };
            if (!(err <= o.Atol + o.Rtol * Math.Abs(numeric)))
                return worst with
                {
                    Passed = false,
                    Failure = $"GradCheck failed for {name} (fast mode): input {i} (shape {Errors.Shape(shapes[i])}), projection vᵀJu: analytic {analytic:R}, numeric {numeric:R}",
                };
        }
        return worst;
    }

    private static int[] Unravel(long flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            idx[d] = (int)(flat % shape[d]);
            flat /= shape[d];
        }
        return idx;
    }
}
