using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Engine.Benchmarks;

/// <summary>
/// Memory-bound ops on 16M floats (64 MiB per operand), each beside its
/// <see cref="TensorPrimitives"/> baseline on plain float[] (one thread, as that API runs):
/// the goals for these are ratios to TensorPrimitives' bandwidth.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ElementwiseBenchmarks
{
    private const int N = 16 * 1024 * 1024;

    private Tensor _a = null!, _b = null!;
    private float[] _fa = null!, _fb = null!, _fc = null!;

    [GlobalSetup]
    public void Setup()
    {
        _a = Tensor.RandN(N);
        _b = Tensor.RandN(N);
        _fa = _a.ToArray<float>();
        _fb = _b.ToArray<float>();
        _fc = new float[N];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    /// <summary>c = a + b into a fresh (pooled) tensor, disposed.</summary>
    [Benchmark, BenchmarkCategory("Add")]
    public void Add()
    {
        using var c = _a + _b;
    }

    /// <summary>a += b.</summary>
    [Benchmark, BenchmarkCategory("Add")]
    public void AddInPlace() => _a.AddInPlace(_b);

    [Benchmark(Baseline = true), BenchmarkCategory("Add")]
    public void TensorPrimitivesAdd() => TensorPrimitives.Add(_fa, _fb, _fc);

    [Benchmark, BenchmarkCategory("Sum")]
    public float Sum()
    {
        using var s = _a.Sum();
        return s.Item<float>();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Sum")]
    public float TensorPrimitivesSum() => TensorPrimitives.Sum(_fa);
}
