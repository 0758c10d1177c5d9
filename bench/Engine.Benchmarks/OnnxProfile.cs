using System.Diagnostics;
using System.Runtime.Intrinsics;
using Engine.Onnx;

namespace Engine.Benchmarks;

/// <summary>
/// Where an ONNX model's inference time goes, node by node:
/// <c>dotnet run -c Release --project bench/Engine.Benchmarks -- onnx-profile [batch] [side] [model.onnx]</c>
/// (default: the pretrained ResNet18 at 32 × 3 × 64 × 64, the compare row's input). Medians of 20 profiled calls
/// after 10 untimed ones; a profiled call keeps every intermediate, so the whole call is timed apart as well, run as
/// inference runs (intermediates released).
/// </summary>
public static class OnnxProfile
{
    public static void Report(TextWriter output, string[] args)
    {
        int batch = args.Length > 0 ? int.Parse(args[0]) : 32;
        int side = args.Length > 1 ? int.Parse(args[1]) : 64;
        string path = args.Length > 2 ? args[2] : PretrainedModels.ResNet18Path;
        var model = OnnxModel.Load(path);
        model.Eval();
        var x = new Variable(Tensor.Rand([batch, 3, side, side], -115, 140));
        using var noGrad = GradMode.NoGrad();
        for (int i = 0; i < 10; i++)
            using (Tensor.Scope()) model.Forward(x);
        var runs = new List<IReadOnlyList<(Engine.Onnx.Proto.NodeProto Node, double Milliseconds, int[] OutputShape)>>();
        for (int i = 0; i < 20; i++)
            using (Tensor.Scope()) runs.Add(model.Profile(x));
        var whole = new List<double>();
        for (int i = 0; i < 20; i++)
            using (Tensor.Scope())
            {
                var clock = Stopwatch.StartNew();
                model.Forward(x);
                whole.Add(clock.Elapsed.TotalMilliseconds);
            }
        output.WriteLine($"# {Path.GetFileName(path)}, input {batch}×3×{side}×{side}; AVX-512 {Vector512.IsHardwareAccelerated}, {Environment.ProcessorCount} threads");
        output.WriteLine($"# whole call (intermediates released): median {Median(whole):F2} ms ({batch / Median(whole) * 1e3:F0} per second)");
        var rows = Enumerable.Range(0, runs[0].Count)
            .Select(i => (Node: runs[0][i].Node, Shape: runs[0][i].OutputShape, Ms: Median(runs.Select(r => r[i].Milliseconds))))
            .ToList();
        double total = rows.Sum(r => r.Ms);
        output.WriteLine($"# sum of node medians (profiled) {total:F2} ms");
        foreach (var group in rows.GroupBy(r => r.Node.OpType).OrderByDescending(g => g.Sum(r => r.Ms)))
            output.WriteLine($"{group.Key,-24} {group.Count(),4} nodes {group.Sum(r => r.Ms),8:F2} ms {100 * group.Sum(r => r.Ms) / total,5:F1} %");
        output.WriteLine();
        foreach (var r in rows)
            output.WriteLine($"{r.Node.OpType,-24} {r.Node.Name,-28} → {string.Join('×', r.Shape),-16} {r.Ms,7:F2} ms");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }
}
