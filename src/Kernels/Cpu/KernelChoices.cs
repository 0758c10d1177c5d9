namespace Engine.Kernels;

/// <summary>
/// Choices the CPU kernels otherwise make for themselves (the convolution algorithm, the GEMM's
/// micro-kernel and packing, the thread count, the packed-weight cache), overridden for one thread in a scope. A parallel
/// region carries its caller's choices into the worker threads, so a scope covers exactly the work
/// its own thread starts: tests and benchmarks that force a path run beside others unaffected.
/// </summary>
internal sealed record KernelChoices(Conv2dAlgorithm? Conv = null, bool? GemmUnpacked = null, bool? GemmWide = null, int? Threads = null, bool? PackedWeights = null)
{
    [ThreadStatic] private static KernelChoices? t_current;

    /// <summary>This thread's overrides (null: none).</summary>
    internal static KernelChoices? Current
    {
        get => t_current;
        set => t_current = value;
    }

    /// <summary>Applies <paramref name="change"/> to this thread's choices until the returned scope is disposed.</summary>
    internal static IDisposable With(Func<KernelChoices, KernelChoices> change)
    {
        var saved = t_current;
        t_current = change(saved ?? new KernelChoices());
        return new Restore(saved);
    }

    private sealed class Restore(KernelChoices? saved) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_current = saved;
        }
    }
}
