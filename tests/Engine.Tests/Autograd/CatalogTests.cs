using System.Reflection;
using Engine.Cli;

namespace Engine.Tests;

/// <summary>Every Function is in the gradient-check catalog and in docs/derivatives.md; the CLI reports on them.</summary>
public sealed class CatalogTests
{
    private static IEnumerable<Type> FunctionTypes() =>
        typeof(Variable).Assembly.GetTypes().Where(t => typeof(Function).IsAssignableFrom(t) && !t.IsAbstract && t.Namespace == "Engine.Functions");

    [Fact]
    public void Every_function_has_gradient_check_cases()
    {
        var checkedNames = GradCheckCatalog.All.Select(c => c.Name).ToHashSet();
        var missing = FunctionTypes().Select(t => t.Name).Where(n => !checkedNames.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "no GradCheck case for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_function_has_a_row_in_the_derivatives_document()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Engine.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var doc = File.ReadAllText(Path.Combine(dir!, "docs", "derivatives.md"));
        var missing = FunctionTypes().Select(t => t.Name).Where(n => !doc.Contains($"| {n} ")).ToList();
        Assert.True(missing.Count == 0, "no row in docs/derivatives.md for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Gradcheck_command_checks_one_op_and_prints_the_worst_element()
    {
        var output = new StringWriter();
        int code = GradCheckCommand.Run(all: false, op: "conv2d", json: true, fast: false, output);
        string text = output.ToString();
        Assert.Equal(0, code);
        Assert.Contains("worst first order: input", text);
        Assert.Contains("analytic", text);
        Assert.EndsWith("{\"ops\":1,\"passed\":1,\"failed\":[]}", text.TrimEnd());
    }

    [Fact]
    public void Gradcheck_command_rejects_bad_arguments()
    {
        var output = new StringWriter();
        Assert.Equal(2, GradCheckCommand.Run(all: false, op: null, json: false, fast: false, output));
        Assert.Equal(2, GradCheckCommand.Run(all: false, op: "nosuchop", json: false, fast: false, output));
        Assert.Contains("no function named 'nosuchop'", output.ToString());
    }
}
