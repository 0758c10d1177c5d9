using System.Buffers.Binary;

namespace Engine.Tests;

/// <summary>What a fuzz run saw: how many inputs loaded, how many were refused with our typed exception, the rest.</summary>
/// <param name="Loader">The format fuzzed.</param>
/// <param name="Cases">Inputs tried.</param>
/// <param name="Loaded">Inputs that loaded (and ran, where the suite runs them).</param>
/// <param name="Typed">Inputs refused with the loader's typed exception.</param>
/// <param name="Untyped">Inputs that raised any other exception: findings.</param>
/// <param name="Hangs">Inputs that did not finish before the watchdog: findings.</param>
/// <param name="PeakManagedBytes">The most managed memory one case allocated (on its thread).</param>
/// <param name="PeakResidentBytes">The test process's peak resident memory when the run ended (all tests so far: an upper bound, tensor data included).</param>
/// <param name="Escapes">The first few distinct findings.</param>
public sealed record FuzzReport(string Loader, int Cases, int Loaded, int Typed, int Untyped, int Hangs, long PeakManagedBytes, long PeakResidentBytes, IReadOnlyList<string> Escapes)
{
    public override string ToString() =>
        $"{Loader}: {Cases} cases: {Loaded} loaded, {Typed} refused with a typed error, {Untyped} untyped, {Hangs} hangs; " +
        $"at most {PeakManagedBytes / 1e6:F1} MB allocated by one case, process peak resident {PeakResidentBytes / 1e6:F0} MB" + (Escapes.Count > 0 ? "; distinct escapes: " + string.Join(" | ", Escapes) : "");
}

/// <summary>
/// Seeded mutation fuzzing of the loaders: bit flips, byte overwrites, truncation, insertion of
/// random or repeated bytes, and edits of 1-, 4- and 8-byte fields to values that break arithmetic
/// (0, −1, 2³¹, 2⁴⁰, 2⁶³…), applied to real seed files. Each case runs on a worker thread under a
/// watchdog; an exception that is not the loader's typed one, or a case that does not end, is a
/// finding. <c>ENGINE_FUZZ_CASES</c> raises the count (the note's 10,000 per loader).
/// </summary>
public static class Fuzzer
{
    /// <summary>The number of cases: <paramref name="ci"/>, or <c>ENGINE_FUZZ_CASES</c> when set.</summary>
    public static int Cases(int ci) => int.TryParse(Environment.GetEnvironmentVariable("ENGINE_FUZZ_CASES"), out int n) && n > 0 ? n : ci;

    private static readonly long[] s_interesting = [0, 1, -1, 2, 7, 255, 65535, 65536, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, 1L << 40, long.MaxValue, long.MinValue];

    /// <summary>One mutation of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = (byte[])seed.Clone();
        if (b.Length == 0) return [(byte)rng.Next(256)];
        switch (rng.Next(7))
        {
            case 0:                                                     // bit flips
                for (int k = 1 + rng.Next(4); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1:                                                     // random bytes overwritten
                for (int k = 1 + rng.Next(8); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;
            case 2:                                                     // truncated
                return b[..rng.Next(b.Length)];
            case 3:                                                     // random bytes inserted
            {
                int at = rng.Next(b.Length + 1);
                var extra = new byte[1 + rng.Next(64)];
                rng.NextBytes(extra);
                return [.. b[..at], .. extra, .. b[at..]];
            }
            case 4:                                                     // a slice repeated
            {
                int at = rng.Next(b.Length), len = Math.Min(1 + rng.Next(256), b.Length - at);
                int to = rng.Next(b.Length + 1);
                return [.. b[..to], .. b.AsSpan(at, len).ToArray(), .. b[to..]];
            }
            default:                                                    // a 1-, 4- or 8-byte field set to a value that breaks arithmetic
            {
                int width = new[] { 1, 4, 8 }[rng.Next(3)];
                if (b.Length < width) return b;
                int at = rng.Next(b.Length - width + 1);
                long v = s_interesting[rng.Next(s_interesting.Length)];
                var span = b.AsSpan(at, width);
                if (width == 1) span[0] = (byte)v;
                else if (width == 4) { if (rng.Next(2) == 0) BinaryPrimitives.WriteInt32LittleEndian(span, (int)v); else BinaryPrimitives.WriteInt32BigEndian(span, (int)v); }
                else if (rng.Next(2) == 0) BinaryPrimitives.WriteInt64LittleEndian(span, v); else BinaryPrimitives.WriteInt64BigEndian(span, v);
                return b;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="count"/> inputs made by <paramref name="make"/> (case index, generator) through
    /// <paramref name="load"/>; <paramref name="typed"/> says which exceptions are the loader's own.
    /// </summary>
    public static FuzzReport Run(string loader, int count, int seed, Func<int, Random, byte[]> make, Action<byte[]> load, Func<Exception, bool> typed,
        TimeSpan? watchdog = null)
    {
        var limit = watchdog ?? TimeSpan.FromSeconds(20);
        var rng = new Random(seed);
        int loaded = 0, refused = 0, untyped = 0, hangs = 0;
        long peak = 0;
        var escapes = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var input = make(i, rng);
            Exception? error = null;
            long allocated = 0;
            var worker = new Thread(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try { load(input); }
                catch (Exception e) { error = e; }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }, 16 << 20) { IsBackground = true };
            worker.Start();
            if (!worker.Join(limit))
            {
                hangs++;
                escapes.Add($"case {i}: no answer after {limit.TotalSeconds} s ({input.Length} bytes)");
                continue;
            }
            peak = Math.Max(peak, allocated);
            if (error is null) loaded++;
            else if (typed(error)) refused++;
            else
            {
                untyped++;
                string what = $"{error.GetType().Name}: {error.Message.Split('\n')[0]}";
                if (escapes.Count < 10 && !escapes.Any(x => x.EndsWith(what, StringComparison.Ordinal))) escapes.Add($"case {i}: {what}");
            }
        }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return new FuzzReport(loader, count, loaded, refused, untyped, hangs, peak, self.PeakWorkingSet64, escapes);
    }
}
