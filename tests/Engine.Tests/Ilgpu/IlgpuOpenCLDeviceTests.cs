using Engine.Kernels;
using Engine.Kernels.Gpu;

namespace Engine.Tests;

/// <summary>
/// What the emulator could not show, on a real OpenCL device (PoCL in CI): the kernels at the group
/// sizes a GPU gets (256-thread reductions, 16×16 GEMM groups), shared memory within the device's
/// limit, realistic sizes in float32 and float64, buffers reused while work is still queued, and
/// training. Skipped where there is no OpenCL device, failed where ENGINE_REQUIRE_OPENCL=1.
/// </summary>
[Collection(nameof(OpenCLCollection))]
[DeviceSuite("opencl")]
public sealed class IlgpuOpenCLDeviceTests
{
    private static readonly Device Dev = Device.OpenCL(0);

    private static IlgpuBackend Backend()
    {
        DeviceNeeds.Need(Dev);
        return IlgpuBackend.Get(IlgpuKind.OpenCL, 0);
    }

    private static void Close(Tensor expected, Tensor actual, double tol, string what)
    {
        using var scope = Tensor.Scope();
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = actual.To(Device.Cpu).To(DType.Float64).ToArray<double>();
        Assert.Equal(e.Length, a.Length);
        double scale = e.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(a[i] - e[i]) <= tol * (1 + scale), $"{what}: element {i}: cpu {e[i]}, opencl {a[i]}");
    }

    [SkippableFact]
    public void The_kernels_run_with_gpu_sized_groups_within_the_shared_memory_limit()
    {
        var backend = Backend();
        var accelerator = backend.Accelerator;
        Assert.True(accelerator.MaxNumThreadsPerGroup >= 256, $"{accelerator.MaxNumThreadsPerGroup} threads per group");
        Assert.Equal(ReduceKernels.MaxGroup, backend.ReduceGroup);     // the emulator: 16
        Assert.Equal(16, backend.GemmSide);                              // the emulator: 4
        // the largest static shared arrays: a float64 GEMM's two K slices, an arg-reduction's values and indices
        long gemm = 2L * GemmKernels.TK * GemmKernels.MaxTile * sizeof(double), argmax = ReduceKernels.MaxGroup * (sizeof(double) + sizeof(long));
        Assert.True(accelerator.MaxSharedMemoryPerGroup >= Math.Max(gemm, argmax), $"{accelerator.MaxSharedMemoryPerGroup} bytes of shared memory per group");
        // the kernels never read the warp size: PoCL's is a whole group (4096 threads), a GPU's 32
        Assert.True(accelerator.WarpSize >= 1);
    }

    [SkippableTheory]
    [InlineData(257, 300, 129, DType.Float32)]
    [InlineData(64, 1024, 96, DType.Float32)]
    [InlineData(200, 150, 170, DType.Float64)]
    public void Products_of_realistic_size_match_the_cpu(int m, int k, int n, DType dtype)
    {
        Backend();
        using var scope = Tensor.Scope();
        var g = new Generator((ulong)(m * k + n));
        var a = Tensor.RandN([m, k], 0, 1, dtype, g);
        var b = Tensor.RandN([k, n], 0, 1, dtype, g);
        double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
        Close(a.MatMul(b), a.To(Dev).MatMul(b.To(Dev)), tol, $"{m}x{k}x{n}");
        Close(a.T.Contiguous().T.MatMul(b.T.Contiguous().T), a.To(Dev).T.Contiguous().T.MatMul(b.To(Dev).T.Contiguous().T), tol, "transposed operands");
        var batched = Tensor.RandN([4, m / 4, k], 0, 1, dtype, g);
        Close(batched.MatMul(b), batched.To(Dev).MatMul(b.To(Dev)), tol, "batched");
    }

    [SkippableTheory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Reductions_over_a_million_elements_and_wide_softmax_match_the_cpu(DType dtype)
    {
        Backend();
        using var scope = Tensor.Scope();
        var g = new Generator(5);
        var x = Tensor.RandN([1_000_003], 0, 1, dtype, g);
        var xd = x.To(Dev);
        double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
        Close(x.Sum(), xd.Sum(), tol, "sum of 1,000,003");
        Close(x.Max(), xd.Max(), 0, "max");
        Close(x.ArgMax(), xd.ArgMax(), 0, "argmax");
        var rows = Tensor.RandN([512, 1000], 0, 3, dtype, g);
        var rd = rows.To(Dev);
        Close(rows.Softmax(1), rd.Softmax(1), tol, "softmax over 1000");
        Close(rows.LogSoftmax(1), rd.LogSoftmax(1), tol, "log-softmax over 1000");
        Close(rows.Sum(0), rd.Sum(0), tol, "column sums");
        Close(rows.ArgMax(1), rd.ArgMax(1), 0, "row argmax");
    }

    [SkippableFact]
    public void A_resnet_sized_convolution_and_its_gradients_match_the_cpu()
    {
        Backend();
        using var scope = Tensor.Scope();
        var g = new Generator(9);
        var x = Tensor.RandN([4, 64, 28, 28], 0, 1, generator: g);
        var w = Tensor.RandN([64, 64, 3, 3], 0, 0.05, generator: g);
        var o = new Conv2dOptions { Padding = 1 };
        var y = x.Conv2d(w, null, o);
        Close(y, x.To(Dev).Conv2d(w.To(Dev), null, o), 1e-5, "forward");
        var dy = Tensor.RandN(y.Shape.ToArray(), 0, 1, generator: g);
        Close(Tensor.Conv2dBackwardInput(dy, w, x.Shape.ToArray(), o), Tensor.Conv2dBackwardInput(dy.To(Dev), w.To(Dev), x.Shape.ToArray(), o), 1e-5, "backward input");
        Close(Tensor.Conv2dBackwardWeight(x, dy, w.Shape.ToArray(), o), Tensor.Conv2dBackwardWeight(x.To(Dev), dy.To(Dev), w.Shape.ToArray(), o), 1e-5, "backward weight");
    }

    [SkippableFact]
    public void Pooling_indexing_and_random_numbers_at_size_match_the_cpu()
    {
        Backend();
        using var scope = Tensor.Scope();
        var g = new Generator(13);
        var x = Tensor.RandN([4, 64, 56, 56], 0, 1, generator: g);
        var o = new Pool2dOptions(3) { Stride = 2, Padding = 1 };
        var (v, i) = x.MaxPool2dWithIndices(o);
        var (vd, id) = x.To(Dev).MaxPool2dWithIndices(o);
        Close(v, vd, 0, "max pool values");
        Close(i, id, 0, "max pool indices");
        var dy = Tensor.RandN(v.Shape.ToArray(), 0, 1, generator: g);
        // overlapping windows: an input that is the maximum of several adds their gradients, in another order on the device
        Close(Tensor.MaxPool2dBackward(dy, i, x.Shape.ToArray(), o), Tensor.MaxPool2dBackward(dy.To(Dev), id, x.Shape.ToArray(), o), 1e-6, "max pool backward");
        Close(x.AvgPool2d(o), x.To(Dev).AvgPool2d(o), 1e-6, "average pool");
        // 100,000 rows added into 1,000 slots (each about 100 times), and gathered back
        var table = Tensor.RandN([1000, 16], 0, 1, generator: g);
        var index = Tensor.RandInt(0, 1000, [100_000], generator: g);
        var rows = Tensor.RandN([100_000, 16], 0, 1, generator: g);
        var expand = index.Reshape(-1, 1).Expand(100_000, 16).Contiguous();
        Close(table.ScatterAdd(0, expand, rows), table.To(Dev).ScatterAdd(0, expand.To(Dev), rows.To(Dev)), 1e-5, "scatter-add with repeats");
        Close(table.IndexSelect(0, index), table.To(Dev).IndexSelect(0, index.To(Dev)), 0, "index-select");
        // the same Philox stream: a million numbers, bit for bit
        Close(Tensor.Rand([1_000_000], 0, 1, generator: new Generator(7)), Tensor.Rand([1_000_000], 0, 1, generator: new Generator(7), device: Dev), 0, "uniform");
        Close(Tensor.RandN([1_000_000], 0, 1, DType.Float64, new Generator(8)), Tensor.RandN([1_000_000], 0, 1, DType.Float64, new Generator(8), Dev), 1e-12, "normal");
    }

    /// <summary>
    /// Buffers go back to the pool as soon as their tensors are disposed, while the kernels that read
    /// them may still be queued; the next tensor of that size gets the same buffer. Stream order makes
    /// that safe (each launch runs after the ones before it; uploads and reads wait for the queue).
    /// This drives it hard: every round disposes its intermediates at once, refills reused buffers
    /// from the host, drops some tensors for the finalizer to return during forced collections, and
    /// checks each result against the CPU.
    /// </summary>
    [SkippableFact]
    public void Buffers_reused_while_work_is_queued_keep_every_result_right()
    {
        Backend();
        var pool = MemoryPool.For(Dev);
        long reusesBefore = pool.Statistics.Reuses;
        var rng = new Random(11);
        for (int round = 0; round < 150; round++)
        {
            int n = 32 + rng.Next(4) * 32;
            var a = Tensor.RandN([n, n], 0, 1, generator: new Generator((ulong)round));
            var b = Tensor.RandN([n, n], 0, 1, generator: new Generator((ulong)round + 1000));
            var expected = (a.MatMul(b).Relu() * 0.5 - b).Sum(1);
            Tensor result;
            using (var scope = Tensor.Scope())
            {
                var ad = a.To(Dev);
                var bd = b.To(Dev);
                var p = ad.MatMul(bd);
                var r = p.Relu();
                p.Dispose();                       // its buffer returns to the pool while Relu may still be queued
                var q = Tensor.Empty([n, n], DType.Float32, Dev);
                q.CopyFrom(bd);                    // likely the same buffer, refilled
                var s = r * 0.5;
                r.Dispose();
                var t = s - q;
                s.Dispose();
                q.Dispose();
                result = scope.Keep(t.Sum(1));
            }
            if (round % 10 == 0)
            {
                for (int i = 0; i < 4; i++) _ = Tensor.Zeros([n, n], DType.Float32, Dev);   // abandoned: the finalizer returns them
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Close(expected, result, 1e-4, $"round {round} (n {n})");
            result.Dispose();
            a.Dispose();
            b.Dispose();
            expected.Dispose();
        }
        Assert.True(pool.Statistics.Reuses - reusesBefore > 500, $"{pool.Statistics.Reuses - reusesBefore} buffers reused");
    }

    [SkippableFact]
    public void A_lenet_trained_on_the_device_ends_where_the_cpu_run_does()
    {
        Backend();
        IlgpuCpuTrainingTests.TrainsLikeTheCpu(Dev, batches: 8);
    }
}

/// <summary>The OpenCL device's tests run one at a time: PoCL already uses every core for each kernel.</summary>
[CollectionDefinition(nameof(OpenCLCollection), DisableParallelization = true)]
public sealed class OpenCLCollection;

/// <summary><c>engine train --device opencl</c> end to end, on a small slice of the subset written as IDX files.</summary>
[Collection(nameof(OpenCLCollection))]
[DeviceSuite("opencl")]
public sealed class OpenCLTrainCommandTests
{
    [SkippableFact]
    public void Engine_train_on_the_opencl_device_trains_saves_and_evaluates()
    {
        DeviceNeeds.Need(Device.OpenCL(0));
        using var files = new IdxFiles();
        using (var train = Engine.Data.FashionMnist.LoadTrain())
        using (var test = Engine.Data.FashionMnist.LoadTest())
            foreach (var (set, images, labels, count) in new[] { (train, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 512), (test, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 128) })
            {
                var pixels = set.Inputs.Narrow(0, 0, count).ToArray<float>().Select(v => (byte)Math.Round(v * 255)).ToArray();
                files.Write(images, IdxFiles.Images(pixels, count, 28, 28));
                files.Write(labels, IdxFiles.Labels([.. set.Labels.Narrow(0, 0, count).ToArray<long>().Select(l => (byte)l)]));
            }
        string run = Path.Combine(files.Folder, "run");
        var w = new StringWriter();
        int code = Engine.Cli.CliGuard.Run(w, () => Engine.Cli.TrainCommand.Run(new Engine.Cli.TrainOptions(Epochs: 2, BatchSize: 64, Data: files.Folder,
            Device: "opencl", Out: run, Json: true, Quiet: true), w));
        Assert.True(code == 0, w.ToString());
        var json = System.Text.Json.JsonDocument.Parse(w.ToString().TrimEnd().Split('\n')[^1]).RootElement;
        Assert.True(json.GetProperty("test_accuracy").GetDouble() > 0.3, w.ToString());
        // the saved model evaluates on the CPU to the accuracy the device reported
        var e = new StringWriter();
        Assert.Equal(0, Engine.Cli.CliGuard.Run(e, () => Engine.Cli.EvalCommand.Run(run, files.Folder, true, e)));
        var eval = System.Text.Json.JsonDocument.Parse(e.ToString().TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(json.GetProperty("test_accuracy").GetDouble(), eval.GetProperty("test_accuracy").GetDouble(), 6);
    }
}
