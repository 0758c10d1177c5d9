using System.CommandLine;
using System.Diagnostics;
using Engine.Layers;
using Engine.Onnx;

namespace Engine.Cli;

/// <summary>
/// <c>engine graph</c>: the computation graph of a model's forward pass (and, with <c>--backward</c>, of
/// the backward pass recorded as operations too), as Mermaid, Graphviz DOT, or a PNG drawn by Graphviz.
/// </summary>
internal static class GraphCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"a built-in model: {string.Join(", ", Models.Names)}" };
        var onnx = new Option<string?>("--onnx") { Description = "an ONNX model file" };
        var format = new Option<string>("--format") { Description = "mermaid, dot or png", DefaultValueFactory = _ => "mermaid" };
        var backward = new Option<bool>("--backward") { Description = "the backward pass too: the gradients' operations, recorded (createGraph)" };
        var output = new Option<string?>("--out") { Description = "write to this file (needed for png) instead of printing" };
        var command = new Command("graph", "Print or draw the computation graph of a model's forward (and backward) pass");
        foreach (var o in new Option[] { model, onnx, format, backward, output }) command.Options.Add(o);
        command.SetAction(p => CliGuard.Run(Console.Out, () => Run(p.GetValue(model), p.GetValue(onnx), p.GetValue(format)!, p.GetValue(backward), p.GetValue(output), Console.Out)));
        return command;
    }

    /// <summary>The command's work; returns the exit code.</summary>
    public static int Run(string? modelName, string? onnxPath, string format, bool backward, string? outPath, TextWriter output)
    {
        if ((modelName is null) == (onnxPath is null)) throw new CliException("graph: give exactly one of --model NAME and --onnx PATH");
        format = format.Trim().ToLowerInvariant();
        if (format is not ("mermaid" or "dot" or "png")) throw new CliException($"graph: --format {format}: use mermaid, dot or png");
        if (format == "png" && outPath is null) throw new CliException("graph: --format png needs --out FILE.png");

        using var scope = Tensor.Scope();
        Module net;
        int[] inputShape;
        if (onnxPath is not null)
        {
            OnnxModel m;
            try { m = OnnxModel.Load(onnxPath); }
            catch (OnnxException e) { throw new CliException(e.Message); }
            net = m;
            inputShape = m.ExampleInputShape;
        }
        else
        {
            try { net = Models.Create(modelName!, generator: new Generator(0)); }
            catch (EngineException e) { throw new CliException(e.Message); }
            inputShape = [1, 1, 28, 28];
        }
        net.Eval();
        var result = net.Call(new Variable(Tensor.Zeros(inputShape), name: "input"));
        var root = result;
        if (backward)
        {
            // the gradient of the summed outputs with respect to every parameter, its operations recorded
            var parameters = net.Parameters().Cast<Variable>().ToArray();
            var grads = Autograd.Grad([result.Sum()], parameters, createGraph: true);
            root = grads.Select(g => g.Sum()).Aggregate((a, b) => a + b);
        }
        string text = format == "mermaid" ? root.ToMermaid() : root.ToDot();
        if (format != "png")
        {
            if (outPath is null) output.Write(text);
            else
            {
                File.WriteAllText(outPath, text);
                output.WriteLine($"wrote {outPath}");
            }
            return 0;
        }
        Render(text, outPath!);
        output.WriteLine($"wrote {outPath}");
        return 0;
    }

    /// <summary>Draws DOT text as a PNG with Graphviz's <c>dot</c> program.</summary>
    private static void Render(string dot, string path)
    {
        var start = new ProcessStartInfo("dot", ["-Tpng", "-Gdpi=110", "-o", path])
        {
            RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        Process? process;
        try { process = Process.Start(start); }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("graph: --format png draws with Graphviz's 'dot', which is not installed (Debian: apt-get install graphviz); --format dot writes what it would draw");
        }
        using var dotProcess = process ?? throw new CliException("graph: Graphviz's 'dot' did not start");
        dotProcess.StandardInput.Write(dot);
        dotProcess.StandardInput.Close();
        string errors = dotProcess.StandardError.ReadToEnd();
        dotProcess.WaitForExit();
        if (dotProcess.ExitCode != 0) throw new CliException($"graph: dot failed ({dotProcess.ExitCode}): {errors.Trim()}");
    }
}
