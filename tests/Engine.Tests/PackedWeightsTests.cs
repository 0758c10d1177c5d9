using Engine.Kernels;

namespace Engine.Tests;

/// <summary>
/// The packed-weight cache: a weight packed once gives the bits of packing per call, through every convolution
/// algorithm and direction that reads weights, and a write to the weight (an optimizer step) is seen at once.
/// </summary>
public sealed unsafe class PackedWeightsTests
{
    public static TheoryData<int, DType, string> CasesAndAlgorithms()
    {
        var d = new TheoryData<int, DType, string>();
        for (int i = 0; i < ConvTests.Cases.Length; i++)
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                d.Add(i, dtype, "auto");
                foreach (var a in Enum.GetValues<Conv2dAlgorithm>())
                    if (Conv2dAlgorithms.Applies(a, Geometry(ConvTests.Cases[i]), ConvDirection.Forward)
                        || Conv2dAlgorithms.Applies(a, Geometry(ConvTests.Cases[i]), ConvDirection.BackwardInput))
                        d.Add(i, dtype, a.ToString());
            }
        return d;
    }

    private static Conv2dGeometry Geometry(ConvTests.ConvCase c) =>
        new(c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.Stride.H, c.Stride.W, c.Padding.Top, c.Padding.Left, c.Padding.Bottom, c.Padding.Right,
            c.Dilation.H, c.Dilation.W, c.Groups);

    [Theory, MemberData(nameof(CasesAndAlgorithms))]
    public void Packed_once_gives_the_bits_of_packing_per_call_and_follows_writes(int caseIndex, DType dtype, string path)
    {
        using var forced = path == "auto" ? null : Conv2dAlgorithms.Force(Enum.Parse<Conv2dAlgorithm>(path));
        var c = ConvTests.Cases[caseIndex];
        var rng = new Random(300 + caseIndex);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [c.N, c.C, c.H, c.W], -1, 1, dtype);
        var w = Data.Uniform(rng, [c.K, c.C / c.Groups, c.R, c.S], -1, 1, dtype);
        var outShape = Tensor.Conv2dOutputShape(x.Shape, w.Shape, c.Options);
        var dy = Data.Uniform(rng, outShape, -1, 1, dtype);

        (double[] Y, double[] Dx) Run() =>
            (Bits(x.Conv2d(w, null, c.Options)), Bits(Tensor.Conv2dBackwardInput(dy, w, x.Shape.ToArray(), c.Options)));
        (double[] Y, double[] Dx) PerCall()
        {
            using (PackedWeights.Use(false)) return Run();
        }

        var expected = PerCall();
        for (int call = 0; call < 3; call++)   // seen, packed into the cache, read from it
        {
            var (y, dx) = Run();
            Assert.Equal(expected.Y, y);
            Assert.Equal(expected.Dx, dx);
        }
        // an in-place write (as an optimizer's) gives the weight a new stamp: the next call packs the new values
        w.CopyFrom(Data.Uniform(rng, w.Shape.ToArray(), -1, 1, dtype));
        var updated = PerCall();
        Assert.NotEqual(expected.Y, updated.Y);
        for (int call = 0; call < 3; call++)
        {
            var (y, dx) = Run();
            Assert.Equal(updated.Y, y);
            Assert.Equal(updated.Dx, dx);
        }
        w.MulInPlace(0.5);
        Assert.Equal(PerCall().Y, Run().Y);
    }

    /// <summary>The GEMM with A packed ahead equals per-call packing bit for bit: several k blocks, partial row panels, transposed A, threads.</summary>
    [Fact]
    public void Gemm_with_A_packed_ahead_gives_the_same_bits()
    {
        var rng = new Random(7);
        foreach (bool wide in new[] { false, true })
        {
            if (wide && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) continue;
            using var _ = Gemm.UseWide(wide);
            using var packed = Gemm.UseUnpacked(false);
            for (int trial = 0; trial < 24; trial++)
            {
                int m = 1 + rng.Next(trial < 12 ? 40 : 400), n = 1 + rng.Next(trial < 12 ? 40 : 300), k = 1 + rng.Next(trial % 3 == 0 ? 1200 : 100);
                bool transposed = rng.Next(2) == 0, parallel = rng.Next(3) != 0, accumulate = rng.Next(4) == 0;
                var a = GC.AllocateArray<float>(m * k, pinned: true);   // one address from call to call: the cache's key
                RandomFloats(rng, m * k).CopyTo(a, 0);
                var b = RandomFloats(rng, k * n);
                var start = RandomFloats(rng, m * n);
                long rs = transposed ? 1 : k, cs = transposed ? m : 1;
                float[] Product(long stamp)
                {
                    var c = (float[])start.Clone();
                    fixed (float* pa = a, pb = b, pc = c)
                        Gemm.Run(m, n, k, pa, rs, cs, pb, n, 1, pc, n, 1, accumulate, parallel, stamp);
                    return c;
                }
                var expected = Product(0);
                long stampA = NewStamp();
                for (int call = 0; call < 3; call++)
                    Assert.True(expected.AsSpan().SequenceEqual(Product(stampA)), $"{m}x{n}x{k} transposed {transposed} parallel {parallel} accumulate {accumulate} wide {wide}: call {call} differs");
            }
        }
    }

    [Fact]
    public void A_weight_is_packed_on_its_second_use_and_repacked_after_a_new_stamp()
    {
        var rng = new Random(8);
        const int m = 48, n = 32, k = 64;
        // pinned: the cache knows a weight by its address, which a compacting collection would move between calls
        var a = GC.AllocateArray<float>(m * k, pinned: true);
        RandomFloats(rng, m * k).CopyTo(a, 0);
        var b = RandomFloats(rng, k * n);
        var c = new float[m * n];
        long stamp = NewStamp();
        void Call(long s)
        {
            fixed (float* pa = a, pb = b, pc = c)
                Gemm.Run(m, n, k, pa, k, 1, new StridedPanels<float>(pb, n, 1), pc, n, 1, accumulate: false, parallel: false, s);
        }
        var (packs0, hits0) = PackedWeights.ThisThread;
        Call(stamp);
        Assert.Equal((packs0, hits0), PackedWeights.ThisThread);          // first use: packed per call
        Call(stamp);
        Assert.Equal((packs0 + 1, hits0), PackedWeights.ThisThread);      // second: packed into the cache
        Call(stamp);
        Call(stamp);
        Assert.Equal((packs0 + 1, hits0 + 2), PackedWeights.ThisThread);  // then read from it
        long next = NewStamp();
        Call(next);
        Call(next);
        Assert.Equal((packs0 + 2, hits0 + 2), PackedWeights.ThisThread);  // new contents: packed again
        Call(0);
        Call(0);
        Assert.Equal((packs0 + 2, hits0 + 2), PackedWeights.ThisThread);  // no stamp: never cached
        using (PackedWeights.Use(false))
        {
            Call(next);
            Assert.Equal((packs0 + 2, hits0 + 2), PackedWeights.ThisThread);
        }
    }

    /// <summary>Threads sharing one model's weights while a tiny budget evicts entries under them: every result stays right.</summary>
    [Fact]
    public void Concurrent_use_and_eviction_keep_results_right()
    {
        var rng = new Random(9);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [4, 16, 6, 6], -1, 1, DType.Float32);
        var weights = Enumerable.Range(0, 4).Select(_ => Data.Uniform(rng, [32, 16, 3, 3], -1, 1, DType.Float32)).ToArray();
        var options = new Conv2dOptions { Padding = 1 };
        double[][] expected;
        using (PackedWeights.Use(false)) expected = [.. weights.Select(w => Bits(x.Conv2d(w, null, options)))];
        long saved = CpuBackend.PackedWeightBudget;
        try
        {
            // room for about one layer's packed weights: entries are evicted while other threads read theirs
            CpuBackend.PackedWeightBudget = 32 * 16 * 9 * sizeof(float) + 4096;
            string? failure = null;
            var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                for (int i = 0; i < 40 && failure is null; i++)
                {
                    int layer = (t + i) % weights.Length;
                    using var s = Tensor.Scope();
                    if (!Bits(x.Conv2d(weights[layer], null, options)).AsSpan().SequenceEqual(expected[layer]))
                        failure = $"thread {t}, call {i}, layer {layer}";
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Null(failure);
            Assert.True(CpuBackend.PackedWeightBytes <= CpuBackend.PackedWeightBudget);
        }
        finally
        {
            CpuBackend.PackedWeightBudget = saved;
        }
    }

    private static long s_stamp = long.MaxValue / 2;

    /// <summary>Stamps far from the tensor layer's, so a test's entries never meet a tensor's.</summary>
    private static long NewStamp() => Interlocked.Increment(ref s_stamp);

    private static float[] RandomFloats(Random rng, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1))];

    private static double[] Bits(Tensor t) => t.To(DType.Float64).ToArray<double>();
}
