using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;
using System.Text.Json;
using Engine.Kernels;
using TorchSharp;

namespace Engine.Compare;

/// <summary>
/// Runs the same work on our engine and on libtorch in one process, alternating the two sides
/// round after round, and prints throughputs and the ratio ours/libtorch. See bench/README.md.
/// </summary>
public static class Program
{
    private sealed record Settings(bool Quick, bool Json, int Threads, int Rounds, double JitWarmSeconds, double WarmSeconds, double BatchSeconds, int SettleMs, HashSet<string>? Only);

    private const string Usage = """
        usage: compare.sh [--quick] [--json] [--cases a,b,...] [--rounds N] [--threads N]
          --quick     fewer rounds and shorter batches (the whole run takes about a minute or two)
          --json      the last line of stdout is one JSON object {"cases":[...]}
          --cases     run only these cases (a case name runs all of its rows; a row name works too)
          --rounds    alternating rounds per row (default 9, --quick 5)
          --threads   threads on both sides (default 2)
          --jit-warmup S  seconds of warm-up on tiny inputs before anything is timed (default 2, --quick 1)
        """;

    public static int Main(string[] args)
    {
        Settings? s;
        try { s = Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (s is null) { Console.WriteLine(Usage); return 0; }

        try
        {
            // Interop threads first: libtorch accepts that setting only before any parallel work.
            torch.set_num_interop_threads(1);
            torch.set_num_threads(s.Threads);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"libtorch failed to load: {e.GetBaseException().Message}");
            Console.Error.WriteLine("Run through bench/compare.sh, which sets LD_LIBRARY_PATH/LD_PRELOAD for Debian 12 (see bench/README.md).");
            return 3;
        }
        CpuBackend.Threads = s.Threads;

        var cases = Cases.All;
        if (s.Only is not null)
        {
            var known = new HashSet<string>(cases.Select(c => c.Name));
            foreach (var name in s.Only)
                if (!known.Contains(name) && !known.Any(k => IsRowOf(name, k)))
                {
                    Console.Error.WriteLine($"unknown case '{name}'; cases: {string.Join(", ", known)}");
                    return 2;
                }
        }

        PrintHeader(s);
        WarmUpJit(s);
        var results = new List<Result>();
        var errors = new List<(string Name, string Message)>();
        foreach (var c in cases)
        {
            if (s.Only is not null && !s.Only.Contains(c.Name) && !s.Only.Any(o => IsRowOf(o, c.Name))) continue;
            Console.Error.WriteLine($"[compare] {c.Name} ...");
            try
            {
                using var setup = c.Create();
                var pairs = setup.Pairs.Where(p => s.Only is null || s.Only.Contains(c.Name) || s.Only.Contains(p.Name)).ToList();
                // Every check first: rows that work in place change their inputs while timed.
                var diffs = pairs.Select(p => p.Check()).ToList();
                for (int i = 0; i < pairs.Count; i++)
                {
                    var r = Measure(pairs[i], diffs[i], s);
                    results.Add(r);
                    PrintRow(r);
                }
            }
            catch (Exception e)
            {
                errors.Add((c.Name, e.GetBaseException().Message));
                Console.Error.WriteLine($"[compare] {c.Name} FAILED: {e}");
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        PrintFooter(results, errors);
        if (s.Json) Console.WriteLine(ToJson(results, errors, s));
        Console.Out.Flush();
        return errors.Count == 0 ? 0 : 1;
    }

    private static bool IsRowOf(string row, string caseName) => row.StartsWith(caseName + "_", StringComparison.Ordinal);

    private static Settings? Parse(string[] args)
    {
        bool quick = false, json = false;
        int threads = 2;
        int? rounds = null;
        double? jitWarm = null;
        HashSet<string>? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i], value = "";
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0) (a, value) = (a[..eq], a[(eq + 1)..]);
            string Next() => value != "" ? value : i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            switch (a)
            {
                case "--quick": quick = true; break;
                case "--json": json = true; break;
                case "--cases": only = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]; break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--jit-warmup": jitWarm = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help": return null;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (threads < 1) throw new ArgumentException("--threads must be at least 1");
        if (rounds is < 1) throw new ArgumentException("--rounds must be at least 1");
        if (jitWarm is < 0) throw new ArgumentException("--jit-warmup must be at least 0");
        return quick
            ? new Settings(true, json, threads, rounds ?? 5, JitWarmSeconds: jitWarm ?? 1.0, WarmSeconds: 0.15, BatchSeconds: 0.03, SettleMs: 10, only)
            : new Settings(false, json, threads, rounds ?? 9, JitWarmSeconds: jitWarm ?? 2.0, WarmSeconds: 0.5, BatchSeconds: 0.2, SettleMs: 20, only);
    }

    // ---- measurement ------------------------------------------------------------------------------

    /// <summary>Seconds per call over a batch of <paramref name="reps"/> calls.</summary>
    private static double TimeBatch(Action call, int reps, bool inferenceMode)
    {
        using var mode = inferenceMode ? torch.inference_mode() : null;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) call();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds / reps;
    }

    /// <summary>Runs until warm (JIT tiers, libtorch/oneDNN primitive caches, pools); returns the fastest seconds per call seen.</summary>
    private static double Warm(Action call, bool inferenceMode, double seconds)
    {
        long t0 = Stopwatch.GetTimestamp();
        double best = double.MaxValue;
        int calls = 0;
        while (calls < 3 || Stopwatch.GetElapsedTime(t0).TotalSeconds < seconds)
        {
            best = Math.Min(best, TimeBatch(call, 1, inferenceMode));
            calls++;
        }
        // A short batch gives a steadier figure for tiny calls (timer resolution, call overhead).
        int reps = (int)Math.Clamp(0.01 / best, 1, 100_000);
        return reps > 1 ? Math.Min(best, TimeBatch(call, reps, inferenceMode)) : best;
    }

    /// <summary>
    /// Waits (at most 3 s) until the JIT has compiled nothing new for 100 ms: methods promoted
    /// to the optimised tier are compiled on a background thread, which on two cores would
    /// otherwise share them with whatever is being timed.
    /// </summary>
    private static void WaitForJitQuiet()
    {
        long t0 = Stopwatch.GetTimestamp();
        long before = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (Stopwatch.GetElapsedTime(t0).TotalSeconds < 3)
        {
            Thread.Sleep(100);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == before) return;
            before = now;
        }
    }

    /// <summary>
    /// Every row on tiny inputs, both sides in turn, for a while: the JIT promotes a method to its
    /// optimised tier only after about 30 calls and 100 ms without new methods being compiled, so
    /// without this the first rows would time the tensor layer's unoptimised code (sgemm_64 ran
    /// 2-4x slower that way).
    /// </summary>
    private static void WarmUpJit(Settings s)
    {
        if (s.JitWarmSeconds <= 0) return;
        Console.Error.WriteLine("[compare] warming up the JIT on tiny inputs ...");
        var setups = Cases.WarmUpSetups().Select(f => f()).ToList();
        try
        {
            foreach (var p in setups.SelectMany(c => c.Pairs)) p.Check();
            long t0 = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(t0).TotalSeconds < s.JitWarmSeconds)
                foreach (var p in setups.SelectMany(c => c.Pairs))
                {
                    TimeBatch(p.Ours, 20, false);
                    TimeBatch(p.Theirs, 20, p.InferenceMode);
                }
        }
        finally
        {
            foreach (var c in setups) c.Dispose();
        }
        WaitForJitQuiet();
    }

    private static Result Measure(Pair p, double diff, Settings s)
    {
        // Two passes per side, alternating, so code first reached by one side's warm-up does not
        // hold back the JIT's promotion of the other's.
        Warm(p.Ours, false, s.WarmSeconds);
        Warm(p.Theirs, p.InferenceMode, s.WarmSeconds);
        double estOurs = Warm(p.Ours, false, s.WarmSeconds);
        double estTheirs = Warm(p.Theirs, p.InferenceMode, s.WarmSeconds);
        WaitForJitQuiet();
        int repsOurs = (int)Math.Clamp(Math.Ceiling(s.BatchSeconds / estOurs), 1, 1_000_000);
        int repsTheirs = (int)Math.Clamp(Math.Ceiling(s.BatchSeconds / estTheirs), 1, 1_000_000);
        var ours = new List<double>();
        var theirs = new List<double>();
        for (int r = 0; r < s.Rounds; r++)
        {
            // Alternate which side goes first, and let the other side's spinning workers
            // (ours spin ~2 ms, libgomp's a few ms) go to sleep before each batch.
            for (int side = 0; side < 2; side++)
            {
                Thread.Sleep(s.SettleMs);
                if ((side ^ (r & 1)) == 0) ours.Add(TimeBatch(p.Ours, repsOurs, false));
                else theirs.Add(TimeBatch(p.Theirs, repsTheirs, p.InferenceMode));
            }
        }
        double Rate(double secondsPerCall) => p.WorkPerCall / secondsPerCall / p.UnitScale;
        return new Result(p, Rate(Median(ours)), Rate(Median(theirs)), Rate(ours.Min()), Rate(theirs.Min()), diff, repsOurs, repsTheirs);
    }

    private static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // ---- output -----------------------------------------------------------------------------------

    private const string RowFormat = "{0,-28} {1,-8} {2,9} {3,9} {4,7} {5,9} {6,9} {7,7} {8,9}  {9}";

    private static string F(double v, string format = "F1") =>
        double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static void PrintHeader(Settings s)
    {
        var torchsharp = typeof(torch).Assembly.GetName().Version;
        Console.WriteLine($"# Engine vs libtorch (TorchSharp {torchsharp}), one process, alternating; {s.Threads} thread(s) each side " +
                          $"(CpuBackend.Threads = {CpuBackend.Threads}; torch.set_num_threads({s.Threads}), interop 1); libtorch under inference_mode except autograd rows");
        Console.WriteLine($"# {(s.Quick ? "quick" : "full")}: {s.Rounds} rounds per row, batches of >= {s.BatchSeconds * 1000:F0} ms per side, " +
                          $"JIT warm-up {s.JitWarmSeconds:F1} s, then 2 x {s.WarmSeconds:F2} s per side per row; throughput from the median (and best) seconds per call; ratio = ours/baseline of the medians");
        Console.WriteLine($"# {CpuModel()}, {Environment.ProcessorCount} logical CPUs; AVX-512F {YesNo(Avx512F.IsSupported)}, AVX2 {YesNo(Avx2.IsSupported)}, FMA {YesNo(Fma.IsSupported)}; " +
                          $".NET {Environment.Version}, {RuntimeInformation.OSDescription}");
        Console.WriteLine("# rel diff = max |ours - baseline| / max |baseline| over the outputs, same inputs on both sides");
        Console.WriteLine();
        Console.WriteLine(RowFormat, "case", "unit", "ours", "baseline", "ratio", "ours best", "base best", "best r", "rel diff", "baseline");
        Console.WriteLine(new string('-', 118));
    }

    private static string YesNo(bool b) => b ? "yes" : "no";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static void PrintRow(Result r) =>
        Console.WriteLine(RowFormat, r.Pair.Name, r.Pair.Unit, F(r.OursMedian), F(r.TheirsMedian), F(r.OursMedian / r.TheirsMedian, "F2"),
            F(r.OursBest), F(r.TheirsBest), F(r.OursBest / r.TheirsBest, "F2"), F(r.MaxRelDiff, "0.0E+0"), r.Pair.Baseline);

    private static void PrintFooter(List<Result> results, List<(string Name, string Message)> errors)
    {
        Console.WriteLine();
        Console.WriteLine("# How each row computes its result:");
        foreach (var r in results) Console.WriteLine($"#   {r.Pair.Name}: {r.Pair.Mode} (batch: ours {r.OursReps} call(s), baseline {r.TheirsReps})");
        foreach (var r in results.Where(r => r.Pair.Unit == "steps/s"))
            Console.WriteLine($"#   {r.Pair.Name}: ms per step (median): ours {F(1000 / r.OursMedian, "F3")}, {r.Pair.Baseline} {F(1000 / r.TheirsMedian, "F3")}");
        Console.WriteLine("# add_16m (in place on both) is the primary add figure: libtorch's fresh 64 MiB outputs pay a page fault per 4 KiB page (add_16m_fresh).");
        Console.WriteLine("# The *_vs_tensorprimitives rows compare with TensorPrimitives on plain float[] (one thread, as that API runs): the issue's goals for add and sum are ratios to its bandwidth.");
        foreach (var (name, message) in errors) Console.WriteLine($"# FAILED {name}: {message}");
    }

    private static string ToJson(List<Result> results, List<(string Name, string Message)> errors, Settings s)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            void Number(string key, double v)
            {
                if (double.IsFinite(v)) w.WriteNumber(key, key == "max_rel_diff" ? v : Math.Round(v, 4));
                else w.WriteNull(key);
            }
            w.WriteStartObject();
            w.WriteStartArray("cases");
            foreach (var r in results)
            {
                bool torchRow = r.Pair.Baseline == "libtorch";
                string key = torchRow ? "libtorch" : "tensorprimitives";
                w.WriteStartObject();
                w.WriteString("name", r.Pair.Name);
                Number("ours", r.OursMedian);
                Number(key, r.TheirsMedian);
                Number("ratio", r.OursMedian / r.TheirsMedian);
                w.WriteString("unit", r.Pair.Unit);
                w.WriteString("baseline", r.Pair.Baseline);
                Number("ours_best", r.OursBest);
                Number(key + "_best", r.TheirsBest);
                Number("max_rel_diff", r.MaxRelDiff);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("threads", s.Threads);
            w.WriteBoolean("quick", s.Quick);
            w.WriteNumber("rounds", s.Rounds);
            if (errors.Count > 0)
            {
                w.WriteStartArray("errors");
                foreach (var (name, message) in errors)
                {
                    w.WriteStartObject();
                    w.WriteString("name", name);
                    w.WriteString("message", message);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
