using System.CommandLine;
using System.Text.Json;

namespace Engine.Cli;

/// <summary><c>engine gradcheck</c>: runs GradCheck (and GradGradCheck) over the catalog of differentiable functions.</summary>
internal static class GradCheckCommand
{
    public static Command Create()
    {
        var all = new Option<bool>("--all") { Description = "Check every function in the catalog" };
        var op = new Option<string?>("--op") { Description = "Check one function (case-insensitive), e.g. conv2d" };
        var json = new Option<bool>("--json") { Description = "End with one JSON line: {\"ops\": N, \"passed\": N, \"failed\": [names]}" };
        var fast = new Option<bool>("--fast") { Description = "Random projections instead of full Jacobians" };
        var command = new Command("gradcheck", "Compare every function's analytic gradients with central finite differences (float64)");
        command.Options.Add(all);
        command.Options.Add(op);
        command.Options.Add(json);
        command.Options.Add(fast);
        command.SetAction(parse => Run(parse.GetValue(all), parse.GetValue(op), parse.GetValue(json), parse.GetValue(fast), Console.Out));
        return command;
    }

    /// <summary>The command's work, writing to <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(bool all, string? op, bool json, bool fast, TextWriter output)
    {
        if (all == (op is not null))
        {
            output.WriteLine("gradcheck: give exactly one of --all and --op NAME");
            return 2;
        }
        var cases = GradCheckCatalog.All.Where(c => all || string.Equals(c.Name, op, StringComparison.OrdinalIgnoreCase)).ToList();
        if (cases.Count == 0)
        {
            output.WriteLine($"gradcheck: no function named '{op}'; known: {string.Join(", ", GradCheckCatalog.All.Select(c => c.Name).Distinct())}");
            return 2;
        }
        var options = new GradCheckOptions { FastMode = fast };
        var failed = new SortedSet<string>();
        output.WriteLine($"{"function",-18} {"case",-42} {"first order",-24} {"second order",-24}");
        foreach (var c in cases)
        {
            using var scope = Tensor.Scope();
            var first = Check(() => GradCheck.Run(c.Function, c.Inputs(), options, c.ToString()));
            var second = c.SecondOrder ? Check(() => GradCheck.RunGradGrad(c.Function, c.Inputs(), options, c.ToString())) : null;
            if (!first.Passed || second is { Passed: false }) failed.Add(c.Name);
            output.WriteLine($"{c.Name,-18} {c.Variant,-42} {Describe(first),-24} {(second is null ? "n/a (not recorded)" : Describe(second)),-24}");
            if (!all)
            {
                Worst(output, "first order", first);
                if (second is not null) Worst(output, "second order", second);
            }
            foreach (var r in new[] { first, second })
                if (r is { Passed: false }) output.WriteLine("  " + r.Failure);
        }
        int ops = cases.Select(c => c.Name).Distinct().Count();
        output.WriteLine($"{ops - failed.Count} of {ops} functions passed ({cases.Count} cases)");
        if (json) output.WriteLine(JsonSerializer.Serialize(new { ops, passed = ops - failed.Count, failed = failed.ToArray() }));
        return failed.Count == 0 ? 0 : 1;
    }

    private static GradCheckResult Check(Func<GradCheckResult> run)
    {
        try { return run(); }
        catch (Exception e) { return new GradCheckResult("", false, $"threw {e.GetType().Name}: {e.Message}", double.NaN, -1, -1, double.NaN, double.NaN); }
    }

    private static string Describe(GradCheckResult r) => r.Passed ? $"pass (max err {r.WorstError:0.0e+00})" : "FAIL";

    private static void Worst(TextWriter output, string what, GradCheckResult r)
    {
        if (r.WorstInput < 0) return;
        string where = r.WorstElement >= 0 ? $"element {r.WorstElement}" : "projection";
        output.WriteLine($"  worst {what}: input {r.WorstInput} {where}: analytic {r.Analytic:R}, numeric {r.Numeric:R}, |diff| {r.WorstError:0.00e+00}");
    }
}
