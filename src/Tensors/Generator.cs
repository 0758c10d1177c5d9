using Engine.Kernels;

namespace Engine;

/// <summary>
/// A seeded stream of random numbers: a seed plus a position in the Philox counter space. Each fill
/// of n elements takes the next n counters, so the numbers depend only on the seed and the order
/// of draws, never on thread scheduling or the device.
/// </summary>
public sealed class Generator
{
    private long _offset;

    /// <summary>Creates a generator at the start of the stream of <paramref name="seed"/>.</summary>
    public Generator(ulong seed) => Seed = seed;

    /// <summary>The seed.</summary>
    public ulong Seed { get; private set; }

    /// <summary>How many counters have been used.</summary>
    public ulong Offset => (ulong)Interlocked.Read(ref _offset);

    /// <summary>The generator the creation functions use when none is given; reseed with <see cref="ManualSeed"/>.</summary>
    public static Generator Default { get; } = new(0x2545F4914F6CDD1DUL);

    /// <summary>Restarts this generator at the beginning of the stream of <paramref name="seed"/>.</summary>
    public void ManualSeed(ulong seed)
    {
        Seed = seed;
        Interlocked.Exchange(ref _offset, 0);
    }

    /// <summary>Reserves <paramref name="count"/> counters and returns the first.</summary>
    internal ulong Take(long count) => (ulong)(Interlocked.Add(ref _offset, count) - count);
}

public sealed partial class Tensor
{
    /// <summary>Reseeds <see cref="Generator.Default"/>.</summary>
    public static void ManualSeed(ulong seed) => Generator.Default.ManualSeed(seed);

    private static Tensor RandomFill(string op, int[] shape, RandomDistribution dist, double a, double b, DType dtype, Generator? generator, Device? device)
    {
        var t = Empty(CheckShape(op, shape), dtype, device ?? Device.Current);
        var g = generator ?? Generator.Default;
        if (t.Numel > 0) t.Backend.Random(dist, dtype, g.Seed, g.Take(t.Numel), a, b, t.BufferView(op));
        return t;
    }

    /// <summary>Uniform on [0, 1).</summary>
    public static Tensor Rand(params int[] shape) => Rand(shape, 0, 1);

    /// <summary>Uniform on [low, high).</summary>
    public static Tensor Rand(int[] shape, double low, double high, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        if (!dtype.IsFloating()) throw Errors.DTypeError("Rand", $"dtype {dtype.Name()} is not supported; Rand takes float32, float64 (use RandInt for integers)");
        if (!(low < high) || double.IsInfinity(high - low)) throw new EngineException($"Rand: the range [{low}, {high}) must be finite and non-empty");
        return RandomFill("Rand", shape, RandomDistribution.Uniform, low, high, dtype, generator, device);
    }

    /// <summary>Standard normal.</summary>
    public static Tensor RandN(params int[] shape) => RandN(shape, 0, 1);

    /// <summary>Normal with the given mean and standard deviation.</summary>
    public static Tensor RandN(int[] shape, double mean, double std, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        if (!dtype.IsFloating()) throw Errors.DTypeError("RandN", $"dtype {dtype.Name()} is not supported; RandN takes float32, float64");
        if (!(std >= 0) || double.IsInfinity(std)) throw new EngineException($"RandN: std {std} must be finite and non-negative");
        return RandomFill("RandN", shape, RandomDistribution.Normal, mean, std, dtype, generator, device);
    }

    /// <summary>Uniform integers on [low, high), int64 by default.</summary>
    public static Tensor RandInt(long low, long high, int[] shape, DType dtype = DType.Int64, Generator? generator = null, Device? device = null)
    {
        if (dtype == DType.Bool) throw Errors.DTypeError("RandInt", "dtype bool is not supported; RandInt takes float32, float64, int32, int64");
        if (high <= low) throw new EngineException($"RandInt: the range [{low}, {high}) is empty");
        if (dtype == DType.Int32 && (low < int.MinValue || high - 1 > int.MaxValue))
            throw new EngineException($"RandInt: the range [{low}, {high}) does not fit in int32");
        return RandomFill("RandInt", shape, RandomDistribution.UniformInt, low, high, dtype, generator, device);
    }

    /// <summary>A random permutation of 0 … n-1 (int64), from the generator.</summary>
    public static Tensor RandPerm(int n, Generator? generator = null)
    {
        if (n < 0) throw new ShapeException($"RandPerm: n {n} must be non-negative");
        using var keys = Rand([n], 0, 1, DType.Float64, generator);
        var k = keys.ToArray<double>();
        var perm = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        Array.Sort(k, perm);
        return FromArray(perm);
    }
}
