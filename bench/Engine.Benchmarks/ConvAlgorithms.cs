using System.Diagnostics;
using System.Runtime.Intrinsics;
using Engine.Kernels;

namespace Engine.Benchmarks;

/// <summary>
/// Every convolution algorithm that applies, timed on the geometries the choice rules in
/// <see cref="Conv2dAlgorithms.Choose"/> were set from (ResNet18's stages at 64×64 for 32 images and at 224×224 for
/// one, the compare row's 8 × 64 × 56², LeNet's second layer), with the packed-weight cache off and on:
/// <c>dotnet run -c Release --project bench/Engine.Benchmarks -- conv-algorithms [forward|input|weight] [name prefix]</c>.
/// Medians of 25 calls, float32, after two seconds of warm-up and 5 untimed calls per measurement.
/// </summary>
public static class ConvAlgorithms
{
    private static readonly (string Name, int N, int C, int K, int H, int R, int Stride, int Pad)[] s_cases =
    [
        ("b32 conv1 7x7 s2 64²", 32, 3, 64, 64, 7, 2, 3),
        ("b32 stage1 64ch 16²", 32, 64, 64, 16, 3, 1, 1),
        ("b32 stage2 128ch 8²", 32, 128, 128, 8, 3, 1, 1),
        ("b32 stage2 down s2", 32, 64, 128, 16, 3, 2, 1),
        ("b32 stage2 1x1 s2", 32, 64, 128, 16, 1, 2, 0),
        ("b32 stage3 down s2", 32, 128, 256, 8, 3, 2, 1),
        ("b32 stage3 256ch 4²", 32, 256, 256, 4, 3, 1, 1),
        ("b32 stage3 1x1 s2", 32, 128, 256, 8, 1, 2, 0),
        ("b32 stage4 512ch 2²", 32, 512, 512, 2, 3, 1, 1),
        ("b32 stage4 1x1 s2", 32, 256, 512, 4, 1, 2, 0),
        ("b32 stage4 down s2", 32, 256, 512, 4, 3, 2, 1),
        ("b8 stage3 256ch 4²", 8, 256, 256, 4, 3, 1, 1),
        ("b8 stage4 512ch 2²", 8, 512, 512, 2, 3, 1, 1),
        ("b8 64ch 56²", 8, 64, 64, 56, 3, 1, 1),
        ("b1 conv1 7x7 s2 224²", 1, 3, 64, 224, 7, 2, 3),
        ("b1 stage1 64ch 56²", 1, 64, 64, 56, 3, 1, 1),
        ("b1 stage3 256ch 14²", 1, 256, 256, 14, 3, 1, 1),
        ("b1 stage4 512ch 7²", 1, 512, 512, 7, 3, 1, 1),
        ("b128 lenet1 1->6 5x5", 128, 1, 6, 28, 5, 1, 2),
        ("b128 lenet2 6->16 5x5", 128, 6, 16, 14, 5, 1, 0),
    ];

    public static void Report(TextWriter output, string[] args)
    {
        var direction = args.FirstOrDefault() switch
        {
            "input" => ConvDirection.BackwardInput,
            "weight" => ConvDirection.BackwardWeight,
            _ => ConvDirection.Forward,
        };
        string? only = args.Skip(1).FirstOrDefault();
        // every kernel past the JIT's first tiers before anything is timed: two seconds of small convolutions through each algorithm
        var warm = Stopwatch.StartNew();
        using (var warmScope = Tensor.Scope())
        {
            var wx = Tensor.Rand([4, 64, 8, 8], -1, 1);
            var ww = Tensor.RandN([64, 64, 3, 3], 0, 0.05, DType.Float32);
            var wdy = Tensor.Rand([4, 64, 8, 8], -1, 1);
            var pad1 = new Conv2dOptions { Padding = 1 };
            while (warm.ElapsedMilliseconds < 2000)
                foreach (var algorithm in Enum.GetValues<Conv2dAlgorithm>())
                {
                    using var forced = Conv2dAlgorithms.Force(algorithm);
                    using var s = Tensor.Scope();
                    _ = wx.Conv2d(ww, null, pad1);
                    _ = Tensor.Conv2dBackwardInput(wdy, ww, [4, 64, 8, 8], pad1);
                    _ = Tensor.Conv2dBackwardWeight(wx, wdy, [64, 64, 3, 3], pad1);
                }
        }
        output.WriteLine($"# {direction}, float32, ms (median of 25); AVX-512 {Vector512.IsHardwareAccelerated}, AVX2 {Vector256.IsHardwareAccelerated}, {Environment.ProcessorCount} threads");
        foreach (var c in s_cases)
        {
            if (only != null && !c.Name.StartsWith(only, StringComparison.Ordinal)) continue;
            using var scope = Tensor.Scope();
            var options = new Conv2dOptions { Stride = c.Stride, Padding = c.Pad };
            var x = Tensor.Rand([c.N, c.C, c.H, c.H], -1, 1);
            var w = Tensor.RandN([c.K, c.C, c.R, c.R], 0, 0.05, DType.Float32);
            int[] yShape = Tensor.Conv2dOutputShape(x.Shape, w.Shape, options);
            var dy = Tensor.Rand(yShape, -1, 1);
            var g = new Conv2dGeometry(c.N, c.C, c.H, c.H, c.K, c.R, c.R, c.Stride, c.Stride, c.Pad, c.Pad, c.Pad, c.Pad, 1, 1, 1);
            Func<Tensor> run = direction switch
            {
                ConvDirection.BackwardInput => () => Tensor.Conv2dBackwardInput(dy, w, x.Shape.ToArray(), options),
                ConvDirection.BackwardWeight => () => Tensor.Conv2dBackwardWeight(x, dy, w.Shape.ToArray(), options),
                _ => () => x.Conv2d(w, null, options),
            };
            double gflop = 2.0 * c.N * c.K * c.C * c.R * c.R * yShape[2] * yShape[3] / 1e9;
            output.Write($"{c.Name,-24} chosen {Conv2dAlgorithms.Choose(g, direction),-20}");
            foreach (var algorithm in Conv2dAlgorithms.Candidates(g, direction))
            {
                using var forced = Conv2dAlgorithms.Force(algorithm);
                output.Write($" {algorithm} {Median(run):F2}");
            }
            long budget = CpuBackend.PackedWeightBudget;
            CpuBackend.PackedWeightBudget = 0;
            double uncached = Median(run);
            CpuBackend.PackedWeightBudget = budget;
            double chosen = Median(run);
            output.WriteLine($" | chosen: cache off {uncached:F2}, on {chosen:F2} ({gflop / chosen * 1e3:F0} GFLOP/s)");
        }
    }

    private static double Median(Func<Tensor> run)
    {
        var times = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var clock = Stopwatch.StartNew();
            run().Dispose();
            if (i >= 5) times.Add(clock.Elapsed.TotalMilliseconds);   // the first five: the cache's two sightings, scratch growth
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
