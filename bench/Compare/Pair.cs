namespace Engine.Compare;

/// <summary>
/// One row of the table: the same work done by our engine and by a baseline (libtorch, or
/// TensorPrimitives on plain arrays), timed alternately in this process.
/// </summary>
internal sealed class Pair
{
    /// <summary>Row name, e.g. "sgemm_1024".</summary>
    public required string Name { get; init; }

    /// <summary>"GFLOP/s", "GB/s" or "steps/s".</summary>
    public required string Unit { get; init; }

    /// <summary>Floating-point operations (GFLOP/s rows), bytes moved (GB/s rows) or training steps (steps/s rows) per call.</summary>
    public required double WorkPerCall { get; init; }

    /// <summary>Work per second is divided by this to give <see cref="Unit"/>: 1e9 for GFLOP/s and GB/s, 1 for steps/s.</summary>
    public double UnitScale { get; init; } = 1e9;

    /// <summary>One call on our engine (results disposed inside).</summary>
    public required Action Ours { get; init; }

    /// <summary>One call on the baseline (results disposed inside).</summary>
    public required Action Theirs { get; init; }

    /// <summary>"libtorch" or "TensorPrimitives".</summary>
    public string Baseline { get; init; } = "libtorch";

    /// <summary>Run the baseline's batches under torch.inference_mode() (off for autograd rows and plain arrays).</summary>
    public bool InferenceMode { get; init; } = true;

    /// <summary>How each side produces its result (fresh/pooled output, preallocated, in place).</summary>
    public required string Mode { get; init; }

    /// <summary>Runs both sides once on the same inputs and returns max |ours − theirs| / max |theirs|.</summary>
    public required Func<double> Check { get; init; }
}

/// <summary>A named case: its inputs (disposed at the end) and the rows it measures.</summary>
internal sealed class Case(string name, Func<CaseSetup> setup)
{
    public string Name { get; } = name;

    public CaseSetup Create() => setup();
}

/// <summary>What a case's setup made: rows to measure and resources to release afterwards.</summary>
internal sealed class CaseSetup(IReadOnlyList<Pair> pairs, params IDisposable[] resources) : IDisposable
{
    public IReadOnlyList<Pair> Pairs { get; } = pairs;

    public void Dispose()
    {
        foreach (var r in resources) r.Dispose();
    }
}

/// <summary>The measured figures of one row.</summary>
internal sealed record Result(
    Pair Pair, double OursMedian, double TheirsMedian, double OursBest, double TheirsBest,
    double MaxRelDiff, int OursReps, int TheirsReps);
