using Engine.Optim;
using Xunit.Abstractions;
using static Engine.Tests.Optim.OptimTestUtil;

namespace Engine.Tests.Optim;

/// <summary>
/// Our optimizers against the reference outputs of ONNX's training operators (domain
/// <c>ai.onnx.preview.training</c>: Momentum, Adagrad, Adam), from the node tests that Debian's
/// libonnx-testdata ships. Each test reads the node's attributes and input tensors from the files,
/// configures our optimizer so that its rule coincides with the ONNX rule, loads the ONNX state
/// (momentum, accumulated squares, moments) through <see cref="Optimizer.LoadStateDict"/>, takes one
/// step and compares the new parameters and the new state with the expected outputs. The data is
/// float32 and ONNX's reference (numpy) computes in float32, as we do.
/// </summary>
/// <remarks>
/// The ONNX rules, with R the learning rate, T the number of updates already done, X the parameter,
/// G its gradient, and λ = norm_coefficient:
/// <code>
///   all:       G' = G + λ·X
///   Momentum:  β' = β if T &gt; 0 else 1;  V ← α·V + β'·G';  X ← X − R·V            (standard)
///                                                      X ← X − R·(G' + α·V)     (nesterov)
///   Adagrad:   R' = R / (1 + T·decay_factor);  H ← H + G'²;  X ← X − R'·G' / (√H + ε)
///   Adam:      V ← α·V + (1 − α)·G';  H ← β·H + (1 − β)·G'²
///              R' = R·√(1 − βᵀ)/(1 − αᵀ) if T &gt; 0 else R;  X ← X − R'·V / (√H + ε)
///              X ← (1 − norm_coefficient_post)·X
/// </code>
/// How each maps onto our optimizers is written beside each test.
/// </remarks>
public sealed class OnnxReferenceTests(ITestOutputHelper output)
{
    // ONNX's own runner compares with rtol 1e-3, atol 1e-7; ours agree to within one float32 ulp (most bit for bit).
    private const double Rtol = 1e-6;
    private const double Atol = 1e-7;

    private const string TrainingDomain = "ai.onnx.preview.training";

    /// <summary>The n optimized tensors' inputs: R, T, then n tensors for each of the <paramref name="perTensor"/> roles (X..., G..., V..., H...).</summary>
    private static OnnxTensor[][] Roles(OnnxNodeTest t, int perTensor)
    {
        int n = (t.Inputs.Count - 2) / perTensor;
        Assert.Equal(2 + n * perTensor, t.Inputs.Count);
        return [.. Enumerable.Range(0, perTensor).Select(r => t.Inputs.Skip(2 + r * n).Take(n).Select(i => i.Value).ToArray())];
    }

    private static Parameter[] Parameters(OnnxTensor[] xs) =>
        [.. xs.Select((x, i) => new Parameter(Tensor.FromArray(x.Floats, x.Shape), $"X{i + 1}"))];

    private static void SetGrads(Parameter[] ps, OnnxTensor[] gs)
    {
        for (int i = 0; i < ps.Length; i++)
        {
            Assert.Equal(gs[i].Shape, ps[i].Data.Shape.ToArray());
            ps[i].Grad = new Variable(TensorScope.Escape(Tensor.FromArray(gs[i].Floats, gs[i].Shape)));
        }
    }

    /// <summary>Loads ONNX's optimizer state (and a step count) into <paramref name="opt"/> through its state dict.</summary>
    private static void LoadOnnxState(Optimizer opt, long? step, params (string Buffer, OnnxTensor[] Values)[] buffers)
    {
        using var scope = Tensor.Scope();
        var sd = opt.StateDict();
        int n = opt.ParamGroups.Sum(g => g.Parameters.Count);
        for (int i = 0; i < n; i++)
        {
            if (step is { } s) sd[$"state.{i}.step"] = Tensor.Scalar(s, DType.Float64);
            foreach (var (name, values) in buffers) sd[$"state.{i}.{name}"] = Tensor.FromArray(values[i].Floats, values[i].Shape);
        }
        opt.LoadStateDict(sd);
    }

    private void Compare(string what, OnnxTensor expected, Tensor actual)
    {
        Assert.Equal(expected.Shape, actual.Shape.ToArray());
        Assert.Equal(DType.Float32, actual.DType);
        var got = Values(actual);
        double worst = 0;
        for (int k = 0; k < got.Length; k++)
        {
            double e = expected.Values[k], diff = Math.Abs(got[k] - e);
            Assert.True(diff <= Atol + Rtol * Math.Abs(e), $"{what}[{k}]: ONNX expects {e:R}, we computed {got[k]:R} (difference {diff:E2})");
            worst = Math.Max(worst, diff / Math.Max(Math.Abs(e), 1e-30));
        }
        output.WriteLine($"{what}: {got.Length} element(s) match, largest relative difference {worst:E2}");
    }

    private static OnnxNodeTest LoadOp(string name, string opType)
    {
        var t = OnnxNodeTest.Load(name, OnnxNodeTest.VendoredRoot);
        Assert.Equal(opType, t.Node.OpType);
        Assert.Equal(TrainingDomain, t.Node.Domain);
        Assert.Equal(OnnxTensor.Float, t.Input("R").DataType);
        return t;
    }

    /// <summary>
    /// Momentum ↔ <see cref="SGD"/>. ONNX's α is SGD's momentum μ, R its learning rate, λ its weight decay,
    /// and the gradient's coefficient β' = (T &gt; 0 ? β : 1) is SGD's 1 − dampening; ONNX's nesterov mode
    /// X ← X − R·(G' + α·V) is SGD's Nesterov rule g + μ·b. One difference remains: SGD's first step
    /// ignores any buffer (b = g), while ONNX at T = 0 still computes α·V + G' from the V it is given.
    /// Loading V as SGD's <c>momentum_buffer</c> makes the step a later step (b = μ·b + (1 − τ)·g), and
    /// with τ = 1 − β' = 0 that is exactly ONNX's update. The mapping is exact for every T in standard
    /// mode; in nesterov mode PyTorch requires τ = 0, so it holds when β' = 1 (T = 0, or β = 1).
    /// </summary>
    [Theory]
    [InlineData("test_momentum")]
    [InlineData("test_momentum_multiple")]
    [InlineData("test_nesterov_momentum")]
    public void Momentum_matches_SGD(string name)
    {
        var t = LoadOp(name, "Momentum");
        double alpha = t.FloatAttribute("alpha", float.NaN), beta = t.FloatAttribute("beta", float.NaN);
        double lambda = t.FloatAttribute("norm_coefficient", float.NaN);
        string mode = t.StringAttribute("mode", "");
        Assert.Contains(mode, (string[])["standard", "nesterov"]);
        double lr = t.Input("R").Scalar;
        long step = (long)t.Input("T").Scalar;
        double gradCoefficient = step > 0 ? beta : 1;
        bool nesterov = mode == "nesterov";
        if (nesterov && gradCoefficient != 1)
            Assert.Fail($"{name}: nesterov mode with a gradient coefficient {gradCoefficient} ≠ 1 has no PyTorch SGD equivalent (Nesterov needs dampening 0)");

        var roles = Roles(t, 3);                     // X..., G..., V...
        var ps = Parameters(roles[0]);
        using var opt = new SGD(ps, lr: lr, momentum: alpha, dampening: 1 - gradCoefficient, weightDecay: lambda, nesterov: nesterov);
        LoadOnnxState(opt, null, ("momentum_buffer", roles[2]));
        SetGrads(ps, roles[1]);
        opt.Step();

        int n = ps.Length;
        for (int i = 0; i < n; i++)
        {
            Compare($"{name} {t.Outputs[i].Name}", t.Outputs[i].Value, ps[i].Data);
            Compare($"{name} {t.Outputs[n + i].Name}", t.Outputs[n + i].Value, opt.GetState(ps[i])!["momentum_buffer"]);
        }
    }

    /// <summary>
    /// Adagrad ↔ <see cref="Adagrad"/>, exactly: R is lr, decay_factor is lr_decay, λ is weight_decay,
    /// ε is eps, H is the <c>sum</c> buffer (each element its own initial accumulator, loaded through the
    /// state dict), and ONNX's T (updates already done) is our step count before the update, since our
    /// step t = T + 1 uses lr / (1 + (t − 1)·lr_decay) = R / (1 + T·decay_factor).
    /// </summary>
    [Theory]
    [InlineData("test_adagrad")]
    [InlineData("test_adagrad_multiple")]
    public void Adagrad_matches_Adagrad(string name)
    {
        var t = LoadOp(name, "Adagrad");
        double eps = t.FloatAttribute("epsilon", 0), decay = t.FloatAttribute("decay_factor", 0), lambda = t.FloatAttribute("norm_coefficient", 0);
        double lr = t.Input("R").Scalar;
        long step = (long)t.Input("T").Scalar;

        var roles = Roles(t, 3);                     // X..., G..., H...
        var ps = Parameters(roles[0]);
        using var opt = new Adagrad(ps, lr: lr, lrDecay: decay, weightDecay: lambda, eps: eps);
        LoadOnnxState(opt, step, ("sum", roles[2]));
        SetGrads(ps, roles[1]);
        opt.Step();

        int n = ps.Length;
        for (int i = 0; i < n; i++)
        {
            Compare($"{name} {t.Outputs[i].Name}", t.Outputs[i].Value, ps[i].Data);
            Compare($"{name} {t.Outputs[n + i].Name}", t.Outputs[n + i].Value, opt.GetState(ps[i])!["sum"]);
            Assert.Equal(step + 1, opt.GetState(ps[i])!.Step);
        }
    }

    /// <summary>
    /// Adam ↔ <see cref="Adam"/> (L2 weight decay λ = norm_coefficient, β₁ = α, β₂ = β, V and H as
    /// <c>exp_avg</c> and <c>exp_avg_sq</c>). The moments coincide; the step differs in two ways:
    /// <list type="bullet">
    /// <item>ONNX adds ε to √H, PyTorch to √H/√(1 − β₂ᵗ). Since (γ/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε) =
    /// γ·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε·√(1 − β₂ᵗ)), ONNX at T &gt; 0 is our step t = T with
    /// ε = ε_onnx / √(1 − β₂ᵀ): load step T − 1.</item>
    /// <item>At T = 0 ONNX applies no bias correction at all; ours always does, with factors 1 − βᵗ that
    /// tend to 1. Loading a step count N large enough that α^(N+1) and β^(N+1) underflow to exactly 0.0
    /// in double makes both factors exactly 1, so the update is exactly ONNX's with ε unchanged.</item>
    /// </list>
    /// norm_coefficient_post (X ← (1 − λ_post)·X after the step) has no PyTorch counterpart: AdamW's
    /// decoupled decay shrinks X before the step, (1 − γλ)·X − update, which differs by λ·update. Both
    /// ONNX tests use 0 (the default), which the test checks.
    /// </summary>
    [Theory]
    [InlineData("test_adam")]
    [InlineData("test_adam_multiple")]
    public void Adam_matches_Adam(string name)
    {
        var t = LoadOp(name, "Adam");
        double alpha = t.FloatAttribute("alpha", 0.9f), beta = t.FloatAttribute("beta", 0.999f);
        double lambda = t.FloatAttribute("norm_coefficient", 0);
        // A defect of the test data (onnx/onnx#7749): test_adam_multiple's model.onnx has no epsilon
        // attribute, so by the operator's schema ε would be its default (1e-6 in the ONNX 1.12 that
        // Debian packages), but its expected outputs were generated with ε = 1e-2 (adam.py,
        // export_adam_multiple); with 1e-6 the first output differs by 3e-3. We use the ε the outputs
        // were made with, and only while the file still lacks the attribute.
        float? epsAttribute = t.TryFloatAttribute("epsilon");
        double eps = epsAttribute ?? (name == "test_adam_multiple" ? 1e-2f : 1e-6f);
        Assert.True(t.FloatAttribute("norm_coefficient_post", 0) == 0, $"{name}: norm_coefficient_post ≠ 0 has no PyTorch Adam/AdamW equivalent");
        double lr = t.Input("R").Scalar;
        long onnxStep = (long)t.Input("T").Scalar;

        long loadedStep;
        double ourEps;
        if (onnxStep > 0)
        {
            loadedStep = onnxStep - 1;
            ourEps = eps / Math.Sqrt(1 - Math.Pow(beta, onnxStep));
        }
        else
        {
            loadedStep = 1 << 16;
            while (Math.Pow(alpha, loadedStep + 1) != 0 || Math.Pow(beta, loadedStep + 1) != 0) loadedStep *= 2;
            ourEps = eps;
        }

        var roles = Roles(t, 4);                     // X..., G..., V..., H...
        var ps = Parameters(roles[0]);
        using var opt = new Adam(ps, lr: lr, beta1: alpha, beta2: beta, eps: ourEps, weightDecay: lambda);
        LoadOnnxState(opt, loadedStep, ("exp_avg", roles[2]), ("exp_avg_sq", roles[3]));
        SetGrads(ps, roles[1]);
        opt.Step();

        int n = ps.Length;
        for (int i = 0; i < n; i++)
        {
            Compare($"{name} {t.Outputs[i].Name}", t.Outputs[i].Value, ps[i].Data);
            Compare($"{name} {t.Outputs[n + i].Name}", t.Outputs[n + i].Value, opt.GetState(ps[i])!["exp_avg"]);
            Compare($"{name} {t.Outputs[2 * n + i].Name}", t.Outputs[2 * n + i].Value, opt.GetState(ps[i])!["exp_avg_sq"]);
        }
    }

    [Fact]
    public void Missing_test_data_fails_and_says_how_to_install_it()
    {
        var e = Assert.ThrowsAny<Exception>(() => OnnxNodeTest.Load("test_adam", "/nonexistent/libonnx-testdata"));
        Assert.Contains("apt-get install -y libonnx-testdata", e.Message);
        Assert.Contains("tools/fetch-test-data.sh", e.Message);
    }
}
