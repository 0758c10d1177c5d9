namespace Engine.Tests;

/// <summary>
/// Host copies to and from a device while other threads allocate and collect garbage. ILGPU copies
/// from the address of the host memory it is given; unpinned, a compacting collection on any
/// thread moved the array mid-copy, and results came back as zeros, NaN or an access violation
/// (the "sporadic zeros under parallel tests" of the emulator, and a NaN on OpenCL).
/// </summary>
public abstract class IlgpuHostCopyTests
{
    protected abstract Device Dev { get; }
    protected abstract int Rounds { get; }

    [SkippableFact]
    public void Host_copies_stay_right_while_other_threads_collect_garbage()
    {
        DeviceNeeds.Need(Dev);
        int wrong = 0;
        string? first = null;
        bool done = false;
        var churn = new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!Volatile.Read(ref done))
            {
                // garbage of mixed sizes and lifetimes, device tensors left to the finalizer, compacting collections
                for (int i = 0; i < 64; i++) keep.Add(new byte[1 + (i * 7919) % 20000]);
                if (keep.Count > 2000) keep.RemoveRange(0, 1000);
                _ = Tensor.Zeros([16, 16], DType.Float32, Dev);
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
        });
        var workers = Enumerable.Range(0, 2).Select(w => new Thread(() =>
        {
            var rng = new Random(w);
            for (int round = 0; round < Rounds; round++)
            {
                using var scope = Tensor.Scope();
                int m = 1 + rng.Next(40), k = 1 + rng.Next(40), n = 1 + rng.Next(70);
                var a = Tensor.RandN([3, 1, m, k], 0, 1, DType.Float32, new Generator((ulong)rng.Next()));
                var b = Tensor.RandN([2, k, n], 0, 1, DType.Float32, new Generator((ulong)rng.Next()));
                var expected = a.MatMul(b).ToArray<float>();
                var got = a.To(Dev).MatMul(b.To(Dev)).To(Device.Cpu).ToArray<float>();
                for (int i = 0; i < expected.Length; i++)
                    if (!(Math.Abs(expected[i] - got[i]) <= 1e-4 * (1 + Math.Abs(expected[i]))))
                    {
                        if (Interlocked.Increment(ref wrong) == 1) first = $"round {round}, {m}x{k}x{n}, element {i}: cpu {expected[i]}, device {got[i]}";
                        break;
                    }
            }
        })).ToList();
        churn.Start();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        Volatile.Write(ref done, true);
        churn.Join();
        Assert.True(wrong == 0, $"{wrong} of {2 * Rounds} products came back wrong; first: {first}");
    }
}

/// <summary>On ILGPU's CPU accelerator (the emulator runs each product slowly: fewer rounds).</summary>
[Collection(nameof(IlgpuCpuCollection))]
public sealed class IlgpuCpuHostCopyTests : IlgpuHostCopyTests
{
    protected override Device Dev => Device.IlgpuCpu;
    protected override int Rounds => 200;
}

/// <summary>On the OpenCL device (PoCL in CI).</summary>
[Collection(nameof(OpenCLCollection))]
[DeviceSuite("opencl")]
public sealed class IlgpuOpenCLHostCopyTests : IlgpuHostCopyTests
{
    protected override Device Dev => Device.OpenCL(0);
    protected override int Rounds => 400;
}
