using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace Engine.Benchmarks;

/// <summary>
/// A chain of 1,000 small recorded ops (y = y·1 on a 4-element vector) with its backward pass,
/// beside the same tensor arithmetic without autograd. The difference is the graph's bookkeeping:
/// nodes, edges, saved values and the backward dispatch.
/// </summary>
[MemoryDiagnoser]
public class AutogradBenchmarks
{
    public const int Chain = 1000;

    [Benchmark(Baseline = true, Description = "tensor ops only (forward and backward arithmetic)")]
    public void TensorsOnly() => AutogradOverhead.TensorWork();

    [Benchmark(Description = "recorded chain + Backward()")]
    public void RecordedChain() => AutogradOverhead.RecordedWork();
}

/// <summary>Measures the autograd bookkeeping per recorded op with interleaved stopwatch runs.</summary>
public static class AutogradOverhead
{
    /// <summary>The arithmetic a recorded chain does: 1,000 multiplies forward and 1,000 backward, on tensors.</summary>
    public static void TensorWork()
    {
        using var scope = Tensor.Scope();
        var y = Tensor.Ones(4);
        for (int i = 0; i < AutogradBenchmarks.Chain; i++) y = y * 1.0;
        var g = Tensor.Ones(4);
        for (int i = 0; i < AutogradBenchmarks.Chain; i++) g = g * 1.0;
    }

    /// <summary>The recorded chain: 1,000 multiplies, then Backward() through all of them.</summary>
    public static void RecordedWork()
    {
        using var scope = Tensor.Scope();
        var x = new Variable(Tensor.Ones(4), requiresGrad: true);
        var y = x;
        for (int i = 0; i < AutogradBenchmarks.Chain; i++) y = y * 1.0;
        y.Backward(new Variable(Tensor.Ones(4)));
        x.ZeroGrad();
    }

    public static void Report(TextWriter output)
    {
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 2000) { TensorWork(); RecordedWork(); }
        var tensors = new List<double>();
        var recorded = new List<double>();
        for (int round = 0; round < 21; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < 20; r++) TensorWork();
            tensors.Add(sw.Elapsed.TotalMilliseconds / 20);
            sw.Restart();
            for (int r = 0; r < 20; r++) RecordedWork();
            recorded.Add(sw.Elapsed.TotalMilliseconds / 20);
        }
        double t = Median(tensors), v = Median(recorded);
        output.WriteLine($"chain of {AutogradBenchmarks.Chain} ops: tensor arithmetic {t:F3} ms, recorded + backward {v:F3} ms (medians of 21 rounds)");
        output.WriteLine($"autograd bookkeeping: {(v - t) * 1000 / AutogradBenchmarks.Chain:F2} µs per recorded op (graph node, edges, saved values, backward dispatch)");
    }

    private static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
}
