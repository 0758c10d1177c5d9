using System.Diagnostics;

namespace Engine.Benchmarks;

/// <summary>
/// What one small op costs on ILGPU's CPU accelerator beside the CPU backend, in time and in managed bytes
/// allocated on the calling thread: the per-launch work of our ILGPU wrappers (kernel lookup, delegates,
/// parameter marshalling, the launch lock) is what the difference holds, beside the emulator's own dispatch.
/// <c>dotnet run -c Release --project bench/Engine.Benchmarks -- launch-overhead</c>.
/// </summary>
public static class LaunchOverhead
{
    private const int Ops = 2000;

    private static readonly (string Name, Func<Tensor, Tensor, Tensor> Op)[] s_ops =
    [
        ("a + b (binary kernel, 4 views)", (a, b) => a + b),
        ("a.Exp() (unary kernel)", (a, _) => a.Exp()),
        ("a > b (compare kernel)", (a, b) => a.Gt(b)),
        ("rand (random kernel)", (a, _) => Tensor.Rand([4], 0, 1, device: a.Device)),
        ("a.Sum() (reduction kernel)", (a, _) => a.Sum()),
    ];

    public static void Report(TextWriter output)
    {
        var devices = new[] { Device.Cpu, Device.IlgpuCpu };
        // every op on every device first, for a second, so the JIT's later tiers are in place before timing
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1000)
            foreach (var (_, op) in s_ops)
                foreach (var device in devices)
                    Measure(device, op, rounds: 1, ops: 20);
        output.WriteLine($"{"op (4 elements)",-34} {"device",-10} {"µs/op",8} {"bytes/op",9}");
        foreach (var (name, op) in s_ops)
            foreach (var device in devices)
            {
                var (us, bytes) = Measure(device, op, rounds: 7, ops: Ops);
                output.WriteLine($"{name,-34} {device,-10} {us,8:F2} {bytes,9:F0}");
            }
    }

    private static (double Us, double Bytes) Measure(Device device, Func<Tensor, Tensor, Tensor> op, int rounds, int ops)
    {
        using var outer = Tensor.Scope();
        var a = Tensor.Ones([4], DType.Float32, device);
        var b = Tensor.Ones([4], DType.Float32, device);
        Run(a, b, op, 20);
        var times = new List<double>();
        var bytes = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            Run(a, b, op, ops);
            times.Add(sw.Elapsed.TotalMicroseconds / ops);
            bytes.Add((GC.GetAllocatedBytesForCurrentThread() - before) / (double)ops);
        }
        return (times.Order().ElementAt(rounds / 2), bytes.Order().ElementAt(rounds / 2));
    }

    private static void Run(Tensor a, Tensor b, Func<Tensor, Tensor, Tensor> op, int count)
    {
        for (int i = 0; i < count; i++)
            op(a, b).Dispose();
        a.ToArray<float>();   // waits for the queued work
    }
}
