namespace Engine.Tests;

[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection;

/// <summary>
/// The suites on ILGPU's CPU accelerator: one after another among themselves, in parallel with the
/// rest of the suite. (They once ran alone, quarantined for zeros they read only beside other tests:
/// host copies made from unpinned arrays, which another thread's garbage collection could move.
/// IlgpuBackend pins them now, and IlgpuHostCopyTests reproduces the old failure under a churning GC.)
/// </summary>
[CollectionDefinition(nameof(IlgpuCpuCollection))]
public sealed class IlgpuCpuCollection;

/// <summary>The pool, reference counting and scopes. Runs alone: it reads process-wide pool counters.</summary>
[Collection(nameof(MemoryCollection))]
public sealed class MemoryTests
{
    /// <summary>Lets earlier tests' abandoned tensors reach the pools first, so their finalizers do not move the counters mid-test.</summary>
    internal static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Fact]
    public void Allocate_free_cycles_reuse_pooled_buffers()
    {
        Settle();
        var pool = MemoryPool.Cpu;
        Tensor.Zeros(1234, 567).Dispose();                   // warm the size class
        var before = pool.Statistics;
        for (int i = 0; i < 10_000; i++)
        {
            using var t = Tensor.Empty([1234, 567]);
        }
        var after = pool.Statistics;
        Assert.Equal(before.SystemAllocations, after.SystemAllocations);
        Assert.Equal(before.AllocatedBytes, after.AllocatedBytes);
        Assert.Equal(before.CachedBytes, after.CachedBytes);
        Assert.True(after.Reuses - before.Reuses >= 10_000);
    }

    [Fact]
    public void Statistics_track_live_and_peak_bytes()
    {
        var pool = MemoryPool.Cpu;
        var before = pool.Statistics;
        long size = MemoryPool.SizeClass(3_000_001 * 4L);
        var a = Tensor.Empty([3_000_001]);
        var b = Tensor.Empty([3_000_001]);
        var during = pool.Statistics;
        Assert.Equal(before.AllocatedBytes + 2 * size, during.AllocatedBytes);
        Assert.True(during.PeakAllocatedBytes >= during.AllocatedBytes);
        a.Dispose();
        b.Dispose();
        var after = pool.Statistics;
        Assert.Equal(before.AllocatedBytes, after.AllocatedBytes);
        Assert.True(after.CachedBytes >= 2 * size);
        pool.EmptyCache();
        Assert.Equal(0, pool.Statistics.CachedBytes);
    }

    [Fact]
    public void Size_classes_waste_at_most_a_quarter()
    {
        foreach (long bytes in new long[] { 1, 63, 64, 65, 1000, 1025, 4096, 5000, 123_456_789 })
        {
            long c = MemoryPool.SizeClass(bytes);
            Assert.True(c >= bytes && c % 64 == 0 && c <= Math.Max(64, bytes * 1.25 + 64), $"{bytes} -> {c}");
        }
    }

    [Fact]
    public void Views_keep_storage_alive_after_the_base_is_disposed()
    {
        var x = Tensor.Arange(0, 6, 1).Reshape(2, 3);
        var row = x.Select(0, 1);
        x.Dispose();
        Assert.Equal(new float[] { 3, 4, 5 }, row.ToArray<float>());
        row.Dispose();
        Assert.Throws<DisposedTensorException>(() => row.ToArray<float>());
        Assert.Throws<DisposedTensorException>(() => x.Exp());
        x.Dispose();                                          // idempotent
    }

    [Fact]
    public void Scope_disposes_intermediates_and_keeps_what_is_kept()
    {
        Tensor kept, temp;
        using (var scope = Tensor.Scope())
        {
            var a = Tensor.Ones(3);
            temp = a * 2;
            kept = scope.Keep(temp + a);
        }
        Assert.True(temp.IsDisposed);
        Assert.False(kept.IsDisposed);
        Assert.Equal(new float[] { 3, 3, 3 }, kept.ToArray<float>());
        kept.Dispose();
    }

    [Fact]
    public void Nested_scopes_hand_kept_tensors_to_the_outer_scope()
    {
        Tensor inner;
        using (var outer = Tensor.Scope())
        {
            using (var scope = Tensor.Scope())
                inner = scope.Keep(Tensor.Ones(2));
            Assert.False(inner.IsDisposed);
        }
        Assert.True(inner.IsDisposed);
    }

    [Fact]
    public void Undisposed_tensors_are_returned_by_the_finalizer()
    {
        var pool = MemoryPool.Cpu;
        GC.Collect();                                        // earlier tests' garbage first
        GC.WaitForPendingFinalizers();
        long before = pool.Statistics.AllocatedBytes;
        MakeGarbage();
        for (int i = 0; i < 5 && pool.Statistics.AllocatedBytes > before; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(before, pool.Statistics.AllocatedBytes);

        static void MakeGarbage()
        {
            for (int i = 0; i < 10; i++) _ = Tensor.Zeros(1000, 10);
        }
    }
}
