using Engine.Cli;
using Engine.Onnx;

namespace Engine.Tests;

/// <summary>engine graph: a model's forward (and backward) graph as Mermaid, DOT or a PNG.</summary>
public sealed class GraphCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-graph-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Graph(string? model, string? onnx, string format = "mermaid", bool backward = false, string? outPath = null)
    {
        var w = new StringWriter();
        int code = CliGuard.Run(w, () => GraphCommand.Run(model, onnx, format, backward, outPath, w));
        return (code, w.ToString());
    }

    [Fact]
    public void The_lenet_forward_graph_has_every_layer_and_parameter_in_mermaid_and_dot()
    {
        var (code, mermaid) = Graph("lenet", null);
        Assert.Equal(0, code);
        Assert.StartsWith("flowchart BT", mermaid);
        Assert.Equal(2, CountOf(mermaid, "[\"Conv2d "));
        Assert.Equal(2, CountOf(mermaid, "[\"MaxPool2d "));
        Assert.Contains("input [1, 1, 28, 28] float32", mermaid);
        Assert.Contains("0.weight [6, 1, 5, 5] float32", mermaid);
        Assert.Contains("[\"Add [1, 10] float32\"]", mermaid);

        var (_, dot) = Graph("lenet", null, "dot");
        Assert.StartsWith("digraph G {", dot);
        Assert.Equal(CountOf(mermaid, " --> "), CountOf(dot, " -> "));   // the same edges
    }

    [Fact]
    public void The_backward_graph_holds_the_gradient_operations_too()
    {
        var (_, forward) = Graph("mlp", null);
        var (code, both) = Graph("mlp", null, backward: true);
        Assert.Equal(0, code);
        Assert.True(CountOf(both, " --> ") > 2 * CountOf(forward, " --> "), "the backward pass adds its own operations");
        Assert.Contains("Relu", both);
    }

    [Fact]
    public void An_onnx_model_draws_too()
    {
        var (code, mermaid) = Graph(null, PretrainedModels.ResNet18Path);
        Assert.Equal(0, code);
        Assert.True(CountOf(mermaid, "Conv2d") >= 20, "ResNet18 has 20 convolutions");
    }

    [SkippableFact]
    public void Png_is_drawn_by_graphviz_when_it_is_installed()
    {
        string png = Path.Combine(_dir, "g.png");
        var (code, text) = Graph("mlp", null, "png", outPath: png);
        if (code != 0 && text.Contains("not installed")) Skip.If(true, "Graphviz's dot is not installed (apt-get install graphviz)");
        Assert.Equal(0, code);
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 1000 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G');
    }

    [Theory]
    [InlineData(null, null, "mermaid", null, "exactly one of --model NAME and --onnx PATH")]
    [InlineData("lenet", "x.onnx", "mermaid", null, "exactly one of --model NAME and --onnx PATH")]
    [InlineData("lenet", null, "svg", null, "--format svg: use mermaid, dot or png")]
    [InlineData("lenet", null, "png", null, "--format png needs --out FILE.png")]
    [InlineData("alexnet", null, "mermaid", null, "unknown model 'alexnet'")]
    [InlineData(null, "/nonexistent/model.onnx", "mermaid", null, "/nonexistent/model.onnx")]
    public void Bad_arguments_are_one_line_and_exit_code_2(string? model, string? onnx, string format, string? outPath, string expected)
    {
        var (code, text) = Graph(model, onnx, format, outPath: outPath);
        Assert.Equal(2, code);
        Assert.Contains(expected, text);
        Assert.StartsWith("error: ", text);
    }

    private static int CountOf(string text, string part)
    {
        int n = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
