using FsCheck.Xunit;

namespace Engine.Tests;

/// <summary>GradCheck over random shapes drawn by FsCheck (shrinking reports the smallest failing shape).</summary>
public sealed class AutogradPropertyTests
{
    private static int[] ShapeOf(byte[]? bytes) => [.. (bytes ?? []).Take(3).Select(b => b % 3 + 1)];

    private static Tensor Values(int[] shape, int seed, double lo = -2, double hi = 2)
    {
        var rng = new Random(seed);
        var v = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++) v[i] = lo + (hi - lo) * rng.NextDouble();
        using var flat = Tensor.FromArray(v);
        return flat.Reshape(shape);
    }

    private static bool Passes(Func<Variable[], Variable> f, params Tensor[] inputs)
    {
        using var scope = Tensor.Scope();
        return GradCheck.Run(f, inputs).Passed;
    }

    [Property(MaxTest = 25)]
    public bool Broadcast_arithmetic_has_correct_gradients(byte[] bytes, int seed)
    {
        var s = ShapeOf(bytes);
        var rng = new Random(seed);
        int[] t = [.. s.Skip(rng.Next(0, s.Length + 1)).Select(n => rng.Next(2) == 0 ? 1 : n)];
        return Passes(v => (v[0] * v[1] + v[0] / v[1]).Sum(), Values(s, seed), Values(t, seed + 1, 0.5, 2));
    }

    [Property(MaxTest = 25)]
    public bool Reductions_over_random_axes_have_correct_gradients(byte[] bytes, int seed)
    {
        var s = ShapeOf(bytes);
        if (s.Length == 0) return true;
        var rng = new Random(seed);
        int[] axes = [.. Enumerable.Range(0, s.Length).Where(_ => rng.Next(2) == 0)];
        if (axes.Length == 0) axes = [0];
        bool keep = rng.Next(2) == 0;
        return Passes(v => v[0].Sum(axes, keep).Square().Sum() + v[0].Mean(axes, keep).Exp().Sum() + v[0].LogSumExp(axes, keep).Sum(), Values(s, seed));
    }

    [Property(MaxTest = 25)]
    public bool Views_have_correct_gradients(byte[] bytes, int seed)
    {
        var s = ShapeOf(bytes);
        if (s.Length == 0) return true;
        var rng = new Random(seed);
        int[] perm = [.. Enumerable.Range(0, s.Length).OrderBy(_ => rng.Next())];
        return Passes(v => (v[0].Permute(perm).Reshape(-1) * Tensor.Arange(0, v[0].Numel, 1, DType.Float64)).Sum(), Values(s, seed));
    }
}
