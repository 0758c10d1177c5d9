using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Engine;
using Engine.Kernels;
using Engine.Layers;
using Engine.Optim;
using Xunit.Sdk;

// GpuCheck [--device cuda:0] [--out DIR] [--quick]
// 1. the conformance suite (tests/Engine.Tests' Ilgpu*ConformanceTests for the device's kind) on the device;
// 2. timings of SGEMM, conv2d on ResNet18's shapes, softmax and a LeNet training step, written to
//    DIR/ours.json for bench/gpu/torch_bench.py to set beside PyTorch's.
// --quick shrinks every size (for a smoke run on ILGPU's CPU accelerator: --device ilgpu-cpu --quick).
// Environment, for diagnosing the conformance part: GPUCHECK_FILTER=a,b runs only the cases whose name
// contains one of the parts; GPUCHECK_VERBOSE=1 prints each case's name first; GPUCHECK_GC=1 runs a full
// garbage collection after each case (how the buffer-lifetime bug of issue 4 was reproduced).

string? deviceArg = null, outDir = ".";
bool quick = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--device": deviceArg = args[++i]; break;
        case "--out": outDir = args[++i]; break;
        case "--quick": quick = true; break;
        default: Console.Error.WriteLine($"GpuCheck: unknown argument '{args[i]}'"); return 2;
    }
}
Device device;
try { device = deviceArg is null ? Device.Default : Device.Parse(deviceArg).CheckAvailable(); }
catch (DeviceException e) { Console.Error.WriteLine($"GpuCheck: {e.Message}"); return 2; }
if (device.Kind == DeviceKind.Cpu)
{
    Console.Error.WriteLine($"GpuCheck: no GPU found (available: {string.Join(", ", Device.Available())}); pass --device ilgpu-cpu --quick for a smoke run");
    return 2;
}
Directory.CreateDirectory(outDir);
var backend = (IlgpuBackend)typeof(Device).GetProperty("Backend", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(device)!;
Console.WriteLine($"device {device}: {backend.DeviceName}");
var clock = Stopwatch.StartNew();
backend.WarmUp();
Console.WriteLine($"kernel warm-up (compilation of the common kernels): {clock.Elapsed.TotalSeconds:F1} s");

// ---- 1. conformance ------------------------------------------------------------------------
var suite = device.Kind switch
{
    DeviceKind.Cuda => typeof(Engine.Tests.IlgpuCudaConformanceTests),
    DeviceKind.OpenCL => typeof(Engine.Tests.IlgpuOpenCLConformanceTests),
    _ => typeof(Engine.Tests.IlgpuCpuConformanceTests),
};
int passed = 0, failed = 0, skipped = 0;
var failures = new List<string>();
foreach (var method in suite.GetMethods().Where(m => m.GetCustomAttributes<Xunit.FactAttribute>().Any()).OrderBy(m => m.Name))
{
    var rows = method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList();
    if (rows.Count == 0) rows.Add([]);
    foreach (var row in rows)
    {
        string name = $"{method.Name}({string.Join(", ", row)})";
        if (Environment.GetEnvironmentVariable("GPUCHECK_VERBOSE") == "1") Console.WriteLine(name);
        if (Environment.GetEnvironmentVariable("GPUCHECK_FILTER") is { } only && !only.Split(",").Any(name.Contains)) continue;
        try
        {
            method.Invoke(Activator.CreateInstance(suite), row);
            if (Environment.GetEnvironmentVariable("GPUCHECK_GC") == "1") { GC.Collect(); GC.WaitForPendingFinalizers(); }
            passed++;
        }
        catch (TargetInvocationException e) when (e.InnerException?.GetType().Name == "SkipException")
        {
            skipped++;
        }
        catch (TargetInvocationException e)
        {
            failed++;
            failures.Add($"{name}: {e.InnerException?.Message.Split('\n')[0]}");
            Console.WriteLine($"FAIL {name}: {e.InnerException?.Message.Split('\n')[0]}");
        }
    }
}
Console.WriteLine($"conformance on {device}: {passed} passed, {failed} failed, {skipped} skipped ({suite.Name})");

// ---- 2. timings ------------------------------------------------------------------------------
var results = new List<Dictionary<string, object>>();
double Time(Action step, double budgetSeconds = 1.0)
{
    step(); step();
    backend.Synchronize();
    var best = double.MaxValue;
    var total = Stopwatch.StartNew();
    int reps = 0;
    while (reps < 3 || (total.Elapsed.TotalSeconds < budgetSeconds && reps < 50))
    {
        var sw = Stopwatch.StartNew();
        step();
        backend.Synchronize();
        best = Math.Min(best, sw.Elapsed.TotalSeconds);
        reps++;
    }
    return best;
}
void Report(string name, string unit, double value, string detail)
{
    results.Add(new() { ["case"] = name, ["unit"] = unit, ["ours"] = value, ["detail"] = detail });
    Console.WriteLine($"{name,-32} {value,12:F1} {unit}   {detail}");
}
using (Device.Use(device))
{
    foreach (int n in quick ? new[] { 64, 128 } : new[] { 1024, 2048, 4096, 8192 })
    {
        using var scope = Tensor.Scope();
        var a = Tensor.RandN(n, n);
        var b = Tensor.RandN(n, n);
        double t = Time(() => a.MatMul(b).Dispose());
        // correctness at size: 64 rows of the product against the CPU
        var rowsOnCpu = a.Narrow(0, 0, Math.Min(64, n)).To(Device.Cpu).MatMul(b.To(Device.Cpu));
        var rowsOnGpu = a.Narrow(0, 0, Math.Min(64, n)).MatMul(b).To(Device.Cpu);
        double err = (rowsOnGpu - rowsOnCpu).Abs().Max().Item<float>() / rowsOnCpu.Abs().Max().Item<float>();
        Report($"sgemm_{n}", "GFLOP/s", 2.0 * n * n * n / t / 1e9, $"max rel err vs cpu {err:E1}");
    }
    (string Name, int N, int C, int H, int K, int R, int Stride, int Pad)[] convs = quick
        ? [("conv_quick", 1, 8, 8, 8, 3, 1, 1)]
        : [("conv_stem_7x7s2_224", 32, 3, 224, 64, 7, 2, 3), ("conv_64_56", 32, 64, 56, 64, 3, 1, 1), ("conv_128_28", 32, 128, 28, 128, 3, 1, 1),
           ("conv_256_14", 32, 256, 14, 256, 3, 1, 1), ("conv_512_7", 32, 512, 7, 512, 3, 1, 1)];
    foreach (var c in convs)
    {
        using var scope = Tensor.Scope();
        var x = Tensor.RandN(c.N, c.C, c.H, c.H);
        var w = Tensor.RandN([c.K, c.C, c.R, c.R], 0, 0.05);
        var o = new Conv2dOptions { Stride = c.Stride, Padding = c.Pad };
        var y = x.Conv2d(w, null, o);
        double t = Time(() => x.Conv2d(w, null, o).Dispose());
        double flops = 2.0 * y.Numel * c.C * c.R * c.R;
        Report(c.Name, "GFLOP/s", flops / t / 1e9, $"N={c.N} C={c.C} H=W={c.H} K={c.K} {c.R}x{c.R} stride {c.Stride}");
    }
    {
        using var scope = Tensor.Scope();
        int rows = quick ? 64 : 32768, cols = 1000;
        var x = Tensor.RandN(rows, cols);
        double t = Time(() => x.Softmax(1).Dispose());
        Report($"softmax_{rows}x{cols}", "GB/s", 2.0 * rows * cols * 4 / t / 1e9, "read + write");
    }
    {
        int batch = quick ? 8 : 128;
        var model = Models.LeNet(generator: new Generator(1)).To(device);
        using var opt = new SGD(model.Parameters(), lr: 0.01, momentum: 0.9);
        var loss = new CrossEntropyLoss();
        var x = Tensor.RandN(batch, 1, 28, 28);
        var labels = Tensor.RandInt(0, 10, [batch]);
        void Step()
        {
            using var scope = Tensor.Scope();
            opt.ZeroGrad();
            loss.Call(model.Call(new Variable(x)), new Variable(labels)).Backward();
            opt.Step();
        }
        double t = Time(Step, 2.0);
        Report($"lenet_step_b{batch}", "steps/s", 1 / t, "zero grads, forward, cross-entropy, backward, SGD momentum");
    }
}
var summary = new Dictionary<string, object>
{
    ["device"] = device.ToString(), ["device_name"] = backend.DeviceName, ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd"),
    ["conformance"] = new Dictionary<string, object> { ["passed"] = passed, ["failed"] = failed, ["skipped"] = skipped, ["failures"] = failures },
    ["cases"] = results, ["quick"] = quick,
};
File.WriteAllText(Path.Combine(outDir, "ours.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"wrote {Path.Combine(outDir, "ours.json")}");
return failed == 0 ? 0 : 1;
