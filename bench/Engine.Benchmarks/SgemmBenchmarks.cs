using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Engine.Kernels;

namespace Engine.Benchmarks;

/// <summary>
/// Single-precision matrix products, C[m,n] = A[m,k]·B[k,n]. <see cref="MatMul"/> goes through the
/// public <see cref="Tensor.MatMul"/> (result from the pool, disposed each iteration);
/// <see cref="GemmKernel"/> calls the internal GEMM directly into a preallocated C, so the
/// difference between the two is the tensor layer's overhead.
/// </summary>
[MemoryDiagnoser]
public unsafe class SgemmBenchmarks
{
    /// <summary>"n" for an n×n×n product, or "m x k x n".</summary>
    [Params("64", "256", "512", "1024", "2048", "64x784x128")]
    public string Shape { get; set; } = "64";

    private int _m, _k, _n;
    private Tensor _a = null!, _b = null!;
    private float* _pa, _pb, _pc;

    [GlobalSetup]
    public void Setup()
    {
        var d = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _k, _n) = d.Length == 1 ? (d[0], d[0], d[0]) : (d[0], d[1], d[2]);
        _a = Tensor.RandN(_m, _k);
        _b = Tensor.RandN(_k, _n);
        _pa = Alloc(_a.ToArray<float>());
        _pb = Alloc(_b.ToArray<float>());
        _pc = Alloc(new float[(long)_m * _n]);
    }

    private static float* Alloc(float[] values)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(values.Length, 1) * sizeof(float)), 64);
        values.AsSpan().CopyTo(new Span<float>(p, values.Length));
        return p;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        NativeMemory.AlignedFree(_pa);
        NativeMemory.AlignedFree(_pb);
        NativeMemory.AlignedFree(_pc);
    }

    [Benchmark(Baseline = true)]
    public void MatMul()
    {
        using var c = _a.MatMul(_b);
    }

    [Benchmark]
    public void GemmKernel() =>
        Gemm.Run(_m, _n, _k, _pa, _k, 1, _pb, _n, 1, _pc, _n, 1, accumulate: false, parallel: true);
}
