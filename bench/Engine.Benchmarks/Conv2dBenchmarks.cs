using BenchmarkDotNet.Attributes;

namespace Engine.Benchmarks;

/// <summary>
/// 2-D convolutions (3×3, stride 1, padding 1, no bias): a ResNet18 layer-1 conv (N8, 64→64,
/// 56×56) forward and forward + both backward passes, and a first-layer MNIST conv (N64,
/// 1→32, 28×28). Every result comes from the pool and is disposed.
/// </summary>
[MemoryDiagnoser]
public class Conv2dBenchmarks
{
    private static readonly Conv2dOptions Pad1 = new() { Padding = 1 };

    private Tensor _x = null!, _w = null!, _dy = null!;
    private Tensor _xMnist = null!, _wMnist = null!;

    [GlobalSetup]
    public void Setup()
    {
        _x = Tensor.RandN(8, 64, 56, 56);
        _w = Tensor.RandN([64, 64, 3, 3], 0, 0.05);
        _dy = Tensor.RandN(8, 64, 56, 56);
        _xMnist = Tensor.RandN(64, 1, 28, 28);
        _wMnist = Tensor.RandN([32, 1, 3, 3], 0, 0.3);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _w, _dy, _xMnist, _wMnist }) t.Dispose();
    }

    [Benchmark]
    public void Forward_N8_C64_56()
    {
        using var y = _x.Conv2d(_w, null, Pad1);
    }

    /// <summary>Forward, then ∂L/∂x and ∂L/∂w from a given ∂L/∂y (what one training step does per conv).</summary>
    [Benchmark]
    public void ForwardBackward_N8_C64_56()
    {
        using var y = _x.Conv2d(_w, null, Pad1);
        using var dx = Tensor.Conv2dBackwardInput(_dy, _w, [8, 64, 56, 56], Pad1);
        using var dw = Tensor.Conv2dBackwardWeight(_x, _dy, [64, 64, 3, 3], Pad1);
    }

    [Benchmark]
    public void Forward_N64_C1to32_28()
    {
        using var y = _xMnist.Conv2d(_wMnist, null, Pad1);
    }
}
