using Engine.Kernels;

namespace Engine.Tests;

/// <summary>The device pool on ILGPU's CPU accelerator. Runs alone: it reads process-wide pool counters.</summary>
[Collection(nameof(MemoryCollection))]
public sealed class IlgpuCpuPoolTests
{
    [Fact]
    public void Ten_thousand_allocate_free_cycles_leave_the_device_pool_flat()
    {
        MemoryTests.Settle();
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
    public void Buffers_of_abandoned_tensors_come_back_to_the_pool_usable_after_collections()
    {
        // Tensors dropped without Dispose reach the pool through their storage's finalizer. Their
        // device memory must still be alive then: an earlier version let ILGPU's own buffer finalizer
        // free it in the same collection, and the pool handed out freed memory.
        for (int round = 0; round < 20; round++)
        {
            Abandon();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var t = Tensor.Full([64, 33], round, DType.Float32, Device.IlgpuCpu);
            Assert.Equal(64 * 33 * round, t.Sum().Item<float>());
        }

        static void Abandon()
        {
            for (int i = 0; i < 8; i++) _ = Tensor.Zeros([64, 33], DType.Float32, Device.IlgpuCpu);
        }
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

/// <summary>A model moved with Module.To trains through Trainer.Fit on the device and tracks the same run on the CPU.</summary>
[Collection(nameof(IlgpuCpuCollection))]
public sealed class IlgpuCpuTrainingTests
{
    [Fact]
    public void A_model_moved_to_the_device_trains_like_on_the_cpu() => TrainsLikeTheCpu(Device.IlgpuCpu, batches: 4);

    /// <summary>LeNet, moved with Module.To, trains <paramref name="batches"/> batches of 16 through Trainer.Fit on <paramref name="device"/> to the CPU run's weights within 1e-4.</summary>
    internal static void TrainsLikeTheCpu(Device device, int batches)
    {
        using var all = Engine.Data.FashionMnist.LoadTrain();
        var train = new Engine.Data.Subset(all, [.. Enumerable.Range(0, 16 * batches)]);
        float[] Run(Device d)
        {
            var model = Engine.Layers.Models.LeNet(generator: new Generator(3)).To(d);
            Assert.All(model.Parameters(), p => Assert.Equal(d, p.Device));
            using var opt = new Engine.Optim.SGD(model.Parameters(), lr: 0.05, momentum: 0.9);
            var history = Engine.Training.Trainer.Fit(model, new Engine.Layers.CrossEntropyLoss(), opt,
                new Engine.Data.DataLoader(train, 16, shuffle: true, seed: 1), 1);
            Assert.True(double.IsFinite(history.Epochs[0].TrainLoss));
            return [.. model.Parameters().SelectMany(p => p.Data.To(Device.Cpu).ToArray<float>())];
        }
        var cpu = Run(Device.Cpu);
        var dev = Run(device);
        Assert.Equal(cpu.Length, dev.Length);
        for (int i = 0; i < cpu.Length; i++)
            Assert.True(Math.Abs(cpu[i] - dev[i]) <= 1e-4 * (1 + Math.Abs(cpu[i])), $"parameter element {i}: cpu {cpu[i]}, {device} {dev[i]}");
    }

    [Fact]
    public void A_view_cannot_move_in_place()
    {
        using var scope = Tensor.Scope();
        var t = Tensor.Zeros(4, 4);
        var row = t.Select(0, 1);
        var ex = Assert.Throws<DeviceException>(() => row.MoveTo(Device.IlgpuCpu));
        Assert.Contains("MoveTo", ex.Message);
    }
}
