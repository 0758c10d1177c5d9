using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>
/// The processes of one data-parallel job: this process's <see cref="Rank"/> among <see cref="Size"/>,
/// and the collectives training needs (all-reduce, broadcast, barrier). Under an MPI launcher
/// (<c>mpirun</c>, <c>srun</c>) it is MPI's world; without one it is this process alone, and every
/// collective is the identity, so the same program runs either way.
/// </summary>
public sealed unsafe class ProcessGroup : IDisposable
{
    private static readonly object s_lock = new();
    private static ProcessGroup? s_world;
    private readonly Mpi? _mpi;
    private bool _disposed;

    private ProcessGroup(Mpi? mpi, int rank, int size, string launcher)
    {
        _mpi = mpi;
        Rank = rank;
        Size = size;
        Launcher = launcher;
    }

    /// <summary>This process's number, 0 … <see cref="Size"/> − 1 (0 is the one that prints and writes).</summary>
    public int Rank { get; }

    /// <summary>How many processes the job has.</summary>
    public int Size { get; }

    /// <summary>True under an MPI launcher (even with one process); false for a process on its own.</summary>
    public bool IsDistributed => _mpi is not null;

    /// <summary>What started the job: "mpirun (Open MPI, libmpi.so.40)", "srun", or "none".</summary>
    public string Launcher { get; }

    /// <summary>The launcher's name when the environment shows one (Open MPI, PMI/PMIx, Slurm), else null.</summary>
    public static string? DetectLauncher()
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        if (Env("OMPI_COMM_WORLD_SIZE") is not null) return "mpirun";
        if (Env("PMIX_RANK") is not null || Env("PMI_RANK") is not null || Env("PMI_SIZE") is not null) return Env("SLURM_JOB_ID") is not null ? "srun" : "pmi";
        return null;
    }

    /// <summary>The job's group when a launcher started this process (<see cref="World"/>), else null: one process, nothing to coordinate.</summary>
    public static ProcessGroup? Launched => DetectLauncher() is null ? null : World;

    /// <summary>
    /// The job's process group, started on first use: MPI initialized (thread level MULTIPLE) when a launcher
    /// started this process, else a group of one. An exception nobody catches aborts the whole job with its
    /// message (MPI_Abort), so that a failing process cannot leave the others waiting in a collective.
    /// </summary>
    public static ProcessGroup World
    {
        get
        {
            lock (s_lock)
            {
                if (s_world is { _disposed: false } w) return w;
                string? launcher = DetectLauncher();
                if (launcher is null) return s_world = new ProcessGroup(null, 0, 1, "none");
                var mpi = Mpi.Load();
                if (!mpi.IsInitialized) mpi.InitThread(Mpi.ThreadMultiple);
                var group = new ProcessGroup(mpi, mpi.Rank(), mpi.Size(), $"{launcher} ({mpi.Name})");
                AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                    group.Abort($"rank {group.Rank}: {(e.ExceptionObject as Exception)?.Message ?? e.ExceptionObject}");
                return s_world = group;
            }
        }
    }

    private void CheckOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>Sums <paramref name="data"/> over every process, in place (float32).</summary>
    public void AllReduce(Span<float> data) => Sum(data, _mpi?.Float ?? 0);

    /// <summary>Sums <paramref name="data"/> over every process, in place (float64).</summary>
    public void AllReduce(Span<double> data) => Sum(data, _mpi?.Double ?? 0);

    /// <summary>Sums <paramref name="data"/> over every process, in place (int64: counts, such as correct predictions).</summary>
    public void AllReduce(Span<long> data) => Sum(data, _mpi?.Int64 ?? 0);

    private void Sum<T>(Span<T> data, nint type) where T : unmanaged
    {
        CheckOpen();
        if (_mpi is null || data.IsEmpty) return;
        fixed (T* p = data) _mpi.AllReduceInPlace(p, data.Length, type, _mpi.OpSum);
    }

    /// <summary>Sums a float32 or float64 tensor over every process, in place.</summary>
    public void AllReduce(Tensor tensor)
    {
        CheckOpen();
        if (_mpi is null) return;
        switch (tensor.DType)
        {
            case DType.Float32: ThroughHost<float>(tensor, data => AllReduce(data)); break;
            case DType.Float64: ThroughHost<double>(tensor, data => AllReduce(data)); break;
            default: throw new DistributedException($"AllReduce: a {tensor.DType.Name()} tensor; float32 and float64 are reduced");
        }
    }

    /// <summary>Overwrites <paramref name="tensor"/> on every process with its value on <paramref name="root"/>.</summary>
    public void Broadcast(Tensor tensor, int root = 0)
    {
        CheckOpen();
        if (_mpi is null || tensor.Numel == 0) return;
        if (root < 0 || root >= Size) throw new DistributedException($"Broadcast: root {root} of {Size} processes");
        var mpi = _mpi;
        switch (tensor.DType)
        {
            case DType.Float32: ThroughHost<float>(tensor, data => Broadcast(mpi, data, mpi.Float, root)); break;
            case DType.Float64: ThroughHost<double>(tensor, data => Broadcast(mpi, data, mpi.Double, root)); break;
            case DType.Int64: ThroughHost<long>(tensor, data => Broadcast(mpi, data, mpi.Int64, root)); break;
            default: throw new DistributedException($"Broadcast: a {tensor.DType.Name()} tensor; float32, float64 and int64 are broadcast");
        }
    }

    private static void Broadcast<T>(Mpi mpi, Span<T> data, nint type, int root) where T : unmanaged
    {
        fixed (T* p = data) mpi.Broadcast(p, data.Length, type, root);
    }

    private delegate void SpanAction<T>(Span<T> data);

    /// <summary>A tensor's elements copied to host memory, changed there by <paramref name="change"/>, copied back.</summary>
    private static void ThroughHost<T>(Tensor tensor, SpanAction<T> change) where T : unmanaged
    {
        var buffer = new T[tensor.Numel];
        tensor.CopyTo<T>(buffer);
        change(buffer);
        tensor.CopyFrom<T>(buffer);
    }

    /// <summary>Waits until every process has called it.</summary>
    public void Barrier()
    {
        CheckOpen();
        _mpi?.Barrier();
    }

    /// <summary>
    /// Starts summing a float32 buffer over every process, in place, and returns at once; the buffer must
    /// be pinned (allocate it with <c>GC.AllocateArray&lt;float&gt;(n, pinned: true)</c>) and left alone until
    /// <see cref="PendingAllReduce.Wait"/> returns.
    /// </summary>
    public PendingAllReduce AllReduceAsync(float[] pinnedBuffer, int count)
    {
        CheckOpen();
        if (count < 0 || count > pinnedBuffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
        if (_mpi is null || count == 0) return new PendingAllReduce(null, 0);
        nint request = _mpi.AllReduceInPlaceAsync(Unsafe(pinnedBuffer), count, _mpi.Float, _mpi.OpSum);
        return new PendingAllReduce(_mpi, request);
    }

    private static void* Unsafe(float[] pinned) => System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>
    /// Ends the whole job: <paramref name="message"/> on standard error, then MPI_Abort, which stops every
    /// process (a process that fails alone would leave the others waiting in a collective forever).
    /// </summary>
    public void Abort(string message, int code = 1)
    {
        Console.Error.WriteLine($"engine: {message}: aborting all {Size} processes");
        Console.Error.Flush();
        if (_mpi is not null) _mpi.Abort(code);
        Environment.Exit(code);
    }

    /// <summary>Finalizes MPI (once, at the end of the program; no collective can follow).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_mpi is not null && !_mpi.IsFinalized) _mpi.FinalizeMpi();
    }
}

/// <summary>A non-blocking all-reduce in flight.</summary>
public sealed class PendingAllReduce
{
    private readonly Mpi? _mpi;
    private nint _request;
    private bool _done;

    internal PendingAllReduce(Mpi? mpi, nint request)
    {
        _mpi = mpi;
        _request = request;
        _done = mpi is null;
    }

    /// <summary>True once the reduction has finished; each call also lets MPI progress it.</summary>
    public bool Test() => _done || (_done = _mpi!.Test(ref _request));

    /// <summary>Blocks until the reduction has finished.</summary>
    public void Wait()
    {
        if (_done) return;
        _mpi!.Wait(ref _request);
        _done = true;
    }
}
