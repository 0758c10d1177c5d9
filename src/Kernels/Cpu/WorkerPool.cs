using System.Diagnostics;

namespace Engine.Kernels;

/// <summary>
/// Persistent worker threads for the CPU kernels. A parallel region gives each thread a contiguous range of its part
/// indices, run first, and then lets it help with the others' ranges (a slowed core simply takes fewer; consecutive
/// kernels over the same data find their parts in the same core's cache: ResNet18 inference 2 % faster than parts
/// handed out in one sequence); the calling thread works too. Idle workers spin for about two milliseconds and
/// then block, so back-to-back kernels start at once without burning a core while idle
/// (pure spinning collapsed two-thread throughput on the 2-vCPU machines we run on). A region
/// runs with its caller's <see cref="KernelChoices"/> on every worker, and at most as many
/// threads as those choices (or <see cref="Threads"/>) allow.
/// </summary>
internal static class WorkerPool
{
    private sealed class Job
    {
        public readonly int Parts;
        public readonly Action<int> Body;
        public readonly KernelChoices? Choices;
        public readonly int MaxHelpers;
        public int Helpers;
        public int Remaining;
        public Exception? Error;

        // thread slot t (the caller 0, helpers 1, 2, …) owns parts [t·Parts/slots, (t+1)·Parts/slots) and takes them first, then
        // helps with the other slots' ranges: consecutive kernels over the same data split it the same way, so each thread
        // finds its parts of the last kernel's output in its own cache. Each slot's next part sits on its own cache line.
        private readonly int[] _next;
        private readonly int _slots;
        private const int Stride = 16;

        public Job(int parts, Action<int> body, KernelChoices? choices, int helpers)
        {
            Parts = parts;
            Body = body;
            Choices = choices;
            MaxHelpers = helpers;
            Remaining = parts;
            _slots = Math.Min(helpers + 1, parts);
            _next = new int[_slots * Stride];
            for (int t = 0; t < _slots; t++) _next[t * Stride] = (int)((long)parts * t / _slots);
        }

        /// <summary>A worker's turn: it works only while the region wants more helpers, under the caller's choices.</summary>
        public void Help()
        {
            int slot = Interlocked.Increment(ref Helpers);
            if (slot > MaxHelpers) return;
            KernelChoices.Current = Choices;
            try { Work(slot); }
            finally { KernelChoices.Current = null; }
        }

        /// <summary>Runs parts until none is left: this slot's own range first, then the others'.</summary>
        public void Work(int slot)
        {
            for (int k = 0; k < _slots; k++)
            {
                int t = (slot + k) % _slots, end = (int)((long)Parts * (t + 1) / _slots), i;
                while ((i = Interlocked.Increment(ref _next[t * Stride]) - 1) < end)
                {
                    try { Body(i); }
                    catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                    Interlocked.Decrement(ref Remaining);
                }
            }
        }
    }

    private static readonly object s_sleepLock = new();
    private static readonly object s_runLock = new();
    private static Job? s_job;
    private static long s_generation;
    private static int s_sleepers;
    private static int s_threads = DefaultThreads();
    private static int s_started;
    [ThreadStatic] private static bool t_inRegion;

    private static int DefaultThreads()
    {
        string? env = Environment.GetEnvironmentVariable("ENGINE_NUM_THREADS");
        return int.TryParse(env, out int n) && n > 0 ? n : Environment.ProcessorCount;
    }

    /// <summary>How many threads a parallel region started on this thread uses (the caller included).</summary>
    public static int Threads
    {
        get => KernelChoices.Current?.Threads ?? s_threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (s_runLock) s_threads = Math.Max(value, 1);
        }
    }

    /// <summary>Runs body(0) … body(parts-1), in parallel when worthwhile; rethrows the first failure.</summary>
    public static void Run(int parts, Action<int> body)
    {
        if (parts <= 0) return;
        int threads = Threads;
        if (parts == 1 || threads <= 1 || t_inRegion || !Monitor.TryEnter(s_runLock))
        {
            for (int i = 0; i < parts; i++) body(i);
            return;
        }
        try
        {
            EnsureStarted(threads - 1);
            t_inRegion = true;
            var job = new Job(parts, body, KernelChoices.Current, threads - 1);
            Volatile.Write(ref s_job, job);
            Interlocked.Increment(ref s_generation);
            if (Volatile.Read(ref s_sleepers) > 0)
                lock (s_sleepLock) Monitor.PulseAll(s_sleepLock);
            job.Work(0);
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Remaining) > 0) spin.SpinOnce(-1);
            if (job.Error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally
        {
            t_inRegion = false;
            Monitor.Exit(s_runLock);
        }
    }

    private static void EnsureStarted(int want)
    {
        while (s_started < want)
        {
            var t = new Thread(WorkerLoop) { IsBackground = true, Name = $"engine-worker-{s_started}" };
            s_started++;
            t.Start();
        }
    }

    private static void WorkerLoop()
    {
        t_inRegion = true;
        long seen = Volatile.Read(ref s_generation);
        var clock = new Stopwatch();
        while (true)
        {
            clock.Restart();
            while (Volatile.Read(ref s_generation) == seen && clock.ElapsedTicks < Stopwatch.Frequency / 500)
                Thread.SpinWait(30);
            if (Volatile.Read(ref s_generation) == seen)
            {
                lock (s_sleepLock)
                {
                    Interlocked.Increment(ref s_sleepers);
                    while (Volatile.Read(ref s_generation) == seen) Monitor.Wait(s_sleepLock);
                    Interlocked.Decrement(ref s_sleepers);
                }
            }
            seen = Volatile.Read(ref s_generation);
            Volatile.Read(ref s_job)?.Help();
        }
    }
}
