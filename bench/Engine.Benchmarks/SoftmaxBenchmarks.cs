using BenchmarkDotNet.Attributes;

namespace Engine.Benchmarks;

/// <summary>Softmax of a [4096, 1000] batch of logits along the class axis (result disposed).</summary>
[MemoryDiagnoser]
public class SoftmaxBenchmarks
{
    private Tensor _x = null!;

    [GlobalSetup]
    public void Setup() => _x = Tensor.RandN(4096, 1000);

    [GlobalCleanup]
    public void Cleanup() => _x.Dispose();

    [Benchmark]
    public void Softmax_4096x1000()
    {
        using var y = _x.Softmax(1);
    }
}
