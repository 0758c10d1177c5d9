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
        output.WriteLine($"{"op (4 elements)",-34} {"device",-10} {"µs/op",8} {"bytes/op",9}");
        foreach (var (name, op) in s_ops)
            foreach (var device in devices)
            {
                var (us, bytes) = Measure(device, op);
                output.WriteLine($"{name,-34} {device,-10} {us,8:F2} {bytes,9:F0}");
            }
    }

    private static (double Us, double Bytes) Measure(Device device, Func<Tensor, Tensor, Tensor> op)
    {
        using var outer = Tensor.Scope();
        var a = Tensor.Ones([4], DType.Float32, device);
        var b = Tensor.Ones([4], DType.Float32, device);
        Run(a, b, op, 200);
        var times = new List<double>();
        var bytes = new List<double>();
        for (int round = 0; round < 7; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            Run(a, b, op, Ops);
            times.Add(sw.Elapsed.TotalMicroseconds / Ops);
            bytes.Add((GC.GetAllocatedBytesForCurrentThread() - before) / (double)Ops);
        }
        return (times.Order().ElementAt(3), bytes.Order().ElementAt(3));
    }

    private static void Run(Tensor a, Tensor b, Func<Tensor, Tensor, Tensor> op, int count)
    {
        for (int i = 0; i < count; i++)
            op(a, b).Dispose();
        a.ToArray<float>();   // waits for the queued work
    }
}
