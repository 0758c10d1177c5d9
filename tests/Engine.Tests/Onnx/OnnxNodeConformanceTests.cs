using Engine.Onnx;
using Engine.Onnx.Proto;
using Xunit.Abstractions;
using ElemType = Engine.Onnx.Proto.TensorProto.Types.DataType;

namespace Engine.Tests;

/// <summary>
/// ONNX's own node tests (Debian's libonnx-testdata: a small model, its inputs and expected outputs), every
/// one whose values are of types the engine has (float, double, int32, int64, bool; no strings, sequences,
/// optionals, 8/16-bit types, quantized or training ops), run through <see cref="OnnxModel"/> and compared
/// with ONNX's tolerances (rtol 1e-3, atol 1e-7, as the ONNX backend tests use). The "_expanded" cases
/// (an op written as its function body) count too. Known failures are skipped with their reason and listed
/// in docs/onnx.md; <see cref="Pass_rate_and_table"/> runs them all and reports per op.
/// </summary>
public sealed class OnnxNodeConformanceTests(ITestOutputHelper output)
{
    private static string Root => Optim.OnnxNodeTest.Root;

    private static readonly HashSet<ElemType> Types = [ElemType.Float, ElemType.Double, ElemType.Int32, ElemType.Int64, ElemType.Bool];

    /// <summary>Cases we fail, by name or by name prefix (ending in '*'), with the reason.</summary>
    internal static readonly (string Pattern, string Reason)[] KnownFailures =
    [
        ("test_training_dropout", "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce"),
        ("test_training_dropout_default", "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce"),
        ("test_training_dropout_default_mask", "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce"),
        ("test_training_dropout_mask", "training-mode Dropout: the expected outputs come from ONNX's reference random draws, which we do not reproduce"),
        ("test_bernoulli*", "Bernoulli and RandomUniformLike: random draws of ONNX's reference, which we do not reproduce"),
        ("test_scan_sum", "Scan of opset 8 (a batch axis and sequence_lens): refused at load; Scan from opset 9 runs"),
    ];

    internal static string? KnownFailure(string name) =>
        KnownFailures.FirstOrDefault(k => k.Pattern.EndsWith('*') ? name.StartsWith(k.Pattern[..^1], StringComparison.Ordinal) : name == k.Pattern).Reason;

    /// <summary>Every node-test folder of supported types, in order.</summary>
    internal static IEnumerable<string> CaseNames()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var dir in Directory.GetDirectories(Root).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            var model = Path.Combine(Root, dir!, "model.onnx");
            if (!File.Exists(model) || !Directory.Exists(Path.Combine(Root, dir!, "test_data_set_0"))) continue;
            var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
            if (InScope(m)) yield return dir!;
        }
    }

    /// <summary>True when every graph input and output is a tensor of a type we have, and no op is a training op.</summary>
    internal static bool InScope(ModelProto m)
    {
        if (m.Graph.Node.Any(n => n.Domain.Contains("training"))) return false;
        foreach (var v in m.Graph.Input.Concat(m.Graph.Output))
            if (v.Type?.TensorType is not { } t || !Types.Contains((ElemType)t.ElemType)) return false;
        return m.Graph.Initializer.All(t => Types.Contains((ElemType)t.DataType));
    }

    /// <summary>The op a case tests: its first node's op type (for _expanded cases, the name's op).</summary>
    internal static string OpOf(string name)
    {
        var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Root, name, "model.onnx")));
        return name.Contains("_expanded") || m.Graph.Node.Count != 1 ? "(function bodies and graphs)" : m.Graph.Node[0].OpType;
    }

    private const string Missing = "(libonnx-testdata not installed)";

    /// <summary>
    /// Without the node tests: one skip per test method, with the way to get them; a failure where
    /// <c>ENGINE_REQUIRE_ONNX_TESTDATA=1</c> (CI) promises them.
    /// </summary>
    private static void SkipWhenMissing()
    {
        if (Directory.Exists(Root)) return;
        string why = $"ONNX node tests not found in {Root}: {Optim.OnnxNodeTest.HowToGet}";
        if (Environment.GetEnvironmentVariable("ENGINE_REQUIRE_ONNX_TESTDATA") == "1") Assert.Fail(why + " (ENGINE_REQUIRE_ONNX_TESTDATA=1 promises them)");
        Skip.If(true, why);
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in CaseNames()) data.Add(name);
        if (data.Count == 0) data.Add(Missing);
        return data;
    }

    [SkippableTheory, MemberData(nameof(Cases))]
    public void Node_test_matches_onnx_reference_outputs(string name)
    {
        SkipWhenMissing();
        string? reason = KnownFailure(name);
        Skip.If(reason is not null, reason);
        Assert.Null(Run(name));
    }

    /// <summary>Runs one case; null when every output matches, else what went wrong.</summary>
    internal static string? Run(string name)
    {
        string dir = Path.Combine(Root, name);
        using var scope = Tensor.Scope();
        try
        {
            var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
            model.Eval();
            string data = Path.Combine(dir, "test_data_set_0");
            var inputs = model.Inputs.Select((n, k) => new Variable(OnnxTensors.ToTensor(
                TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, $"input_{k}.pb"))), n))).ToArray();
            IReadOnlyList<Variable> outputs;
            using (GradMode.NoGrad()) outputs = model.Run(inputs);
            for (int k = 0; k < model.Outputs.Count; k++)
            {
                var expected = OnnxTensors.ToTensor(TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, $"output_{k}.pb"))), "expected");
                var actual = outputs[k].Data;
                if (!expected.Shape.SequenceEqual(actual.Shape))
                    return $"output {k}: shape {Errors.Shape(actual.Shape)}, expected {Errors.Shape(expected.Shape)}";
                if (expected.DType != actual.DType)
                    return $"output {k}: {actual.DType.Name()}, expected {expected.DType.Name()}";
                var e = expected.To(DType.Float64).Reshape(-1).ToArray<double>();
                var a = actual.To(DType.Float64).Reshape(-1).ToArray<double>();
                for (int i = 0; i < e.Length; i++)
                    if (!(Math.Abs(a[i] - e[i]) <= 1e-7 + 1e-3 * Math.Abs(e[i]) || (double.IsNaN(a[i]) && double.IsNaN(e[i])) || a[i] == e[i]))
                        return $"output {k} element {i}: expected {e[i]}, got {a[i]}";
            }
            return null;
        }
        catch (EngineException ex)
        {
            return ex.Message.Replace(dir + Path.DirectorySeparatorChar, "");
        }
    }

    /// <summary>Every case, known failures included: the pass rate (at least 85%) and the table of docs/onnx.md.</summary>
    [SkippableFact]
    public void Pass_rate_and_table()
    {
        SkipWhenMissing();
        var results = CaseNames().Select(n => (Name: n, Op: OpOf(n), Error: Run(n))).ToList();
        int passed = results.Count(r => r.Error is null);
        foreach (var g in results.GroupBy(r => r.Op).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var failed = g.Where(r => r.Error is not null).ToList();
            string why = string.Join("; ", failed.GroupBy(r => KnownFailure(r.Name) ?? Trim(r.Error!)).Select(f => $"{string.Join(", ", f.Select(r => r.Name[5..]))}: {f.Key}"));
            output.WriteLine($"| {g.Key} | {g.Count(r => r.Error is null)} | {failed.Count} | {why} |");
        }
        output.WriteLine($"{passed} of {results.Count} node tests pass ({100.0 * passed / results.Count:F1}%)");
        // a case that fails must be a known failure, and a known failure must fail (else the list is stale)
        var unexpected = results.Where(r => r.Error is not null && KnownFailure(r.Name) is null).Select(r => $"{r.Name}: {r.Error}").ToList();
        var stale = results.Where(r => r.Error is null && KnownFailure(r.Name) is not null).Select(r => r.Name).ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} failures not listed as known:\n{string.Join("\n", unexpected)}");
        Assert.True(stale.Count == 0, $"listed as known failures but pass: {string.Join(", ", stale)}");
        Assert.True(passed >= 0.85 * results.Count, $"{passed} of {results.Count} pass, below 85%");
    }

    private static string Trim(string s) => s.Length > 160 ? s[..160] + "…" : s;
}
