using Engine.Kernels;

namespace Engine.Tests;

/// <summary>The device pool on ILGPU's CPU accelerator. Runs alone: it reads process-wide pool counters.</summary>
[Collection(nameof(MemoryCollection))]
public sealed class IlgpuCpuPoolTests
{
    [Fact]
    public void Ten_thousand_allocate_free_cycles_leave_the_device_pool_flat()
    {
        var pool = MemoryPool.For(Device.IlgpuCpu);
        Tensor.Zeros([123, 45], DType.Float32, Device.IlgpuCpu).Dispose();   // warm the size class
        var before = pool.Statistics;
        for (int i = 0; i < 10_000; i++)
        {
            using var t = Tensor.Empty([123, 45], DType.Float32, Device.IlgpuCpu);
        }
        var after = pool.Statistics;
        Assert.Equal(before.SystemAllocations, after.SystemAllocations);
        Assert.Equal(before.AllocatedBytes, after.AllocatedBytes);
        Assert.Equal(before.CachedBytes, after.CachedBytes);
        Assert.True(after.Reuses - before.Reuses >= 10_000);
        Assert.True(after.PeakAllocatedBytes >= MemoryPool.SizeClass(123 * 45 * 4));
    }

    [Fact]
    public void A_request_over_the_budget_frees_the_cache_then_fails_naming_the_device()
    {
        var pool = MemoryPool.For(Device.IlgpuCpu);
        long saved = pool.Budget;
        try
        {
            Tensor.Zeros([1000], DType.Float32, Device.IlgpuCpu).Dispose();
            pool.Budget = pool.Statistics.AllocatedBytes + 4096;
            var ex = Assert.Throws<DeviceException>(() => Tensor.Empty([100_000], DType.Float32, Device.IlgpuCpu));
            Assert.Contains("ilgpu-cpu:0", ex.Message);
            Assert.Contains("out of memory", ex.Message);
            Assert.Equal(0, pool.Statistics.CachedBytes);
        }
        finally { pool.Budget = saved; }
    }
}

/// <summary>Listing, choosing and naming devices.</summary>
public sealed class IlgpuDeviceModelTests
{
    [Fact]
    public void Available_lists_the_cpu_first_and_the_ilgpu_cpu_accelerator_last()
    {
        var all = Device.Available();
        Assert.Equal(Device.Cpu, all[0]);
        Assert.Equal(Device.IlgpuCpu, all[^1]);
        Assert.Equal(IlgpuBackend.Count(IlgpuKind.Cuda), all.Count(d => d.Kind == DeviceKind.Cuda));
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("CUDA", "cuda:0")]
    [InlineData("cuda:2", "cuda:2")]
    [InlineData("opencl:1", "opencl:1")]
    [InlineData("ilgpu-cpu", "ilgpu-cpu:0")]
    public void Parse_reads_pytorch_style_names(string text, string expected) =>
        Assert.Equal(expected, Device.Parse(text).ToString());

    [Theory]
    [InlineData("tpu", "unknown")]
    [InlineData("cuda:x", "index")]
    [InlineData("cuda:-1", "index")]
    public void Parse_rejects_bad_names_with_the_text(string text, string part)
    {
        var ex = Assert.Throws<DeviceException>(() => Device.Parse(text));
        Assert.Contains(text, ex.Message);
        Assert.Contains(part, ex.Message);
    }

    [Fact]
    public void Default_prefers_cuda_then_opencl_then_the_cpu()
    {
        var expected = IlgpuBackend.Count(IlgpuKind.Cuda) > 0 ? Device.Cuda(0)
            : IlgpuBackend.Count(IlgpuKind.OpenCL) > 0 ? Device.OpenCL(0) : Device.Cpu;
        if (Environment.GetEnvironmentVariable("ENGINE_DEVICE") is null) Assert.Equal(expected, Device.Default);
    }

    [Fact]
    public void Using_an_absent_device_names_it_and_lists_what_exists()
    {
        var ex = Assert.Throws<DeviceException>(() => Device.Use(Device.Cuda(7)));
        Assert.Contains("cuda:7", ex.Message);
        Assert.Contains("ilgpu-cpu:0", ex.Message);
    }

    [Fact]
    public void Device_scopes_nest_and_restore()
    {
        Assert.Equal(Device.Cpu, Device.Current);
        using (Device.Use(Device.IlgpuCpu))
        {
            Assert.Equal(Device.IlgpuCpu, Device.Current);
            using (Device.Use(Device.Cpu)) Assert.Equal(Device.Cpu, Device.Current);
            Assert.Equal(Device.IlgpuCpu, Device.Current);
        }
        Assert.Equal(Device.Cpu, Device.Current);
    }
}
