using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>An MPI call failed, MPI could not be loaded, or another process of the job failed.</summary>
public sealed class DistributedException(string message) : EngineException(message);

/// <summary>
/// The few MPI functions data-parallel training needs, bound at run time to the system's library
/// (Open MPI's <c>libmpi.so.40</c>). MPI's handles are not portable: in Open MPI a communicator, a
/// datatype or an operation is the address of a global object (<c>&amp;ompi_mpi_comm_world</c>), so they
/// are looked up as exported symbols; <c>MPI_IN_PLACE</c> is <c>(void*)1</c>. (MPICH's integer handles would
/// be a second table; it is not written yet.)
/// </summary>
internal sealed unsafe class Mpi
{
    public const int ThreadMultiple = 3;   // MPI_THREAD_MULTIPLE in Open MPI's mpi.h

    private readonly nint _library;
    public readonly string Name;
    public readonly nint CommWorld, Float, Double, Int64, OpSum, OpMax;
    public readonly nint InPlace = 1;

    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int*, nint, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int> _iallreduce;
    private readonly delegate* unmanaged<nint*, nint, int> _wait;
    private readonly delegate* unmanaged<nint*, int*, nint, int> _test;
    private readonly delegate* unmanaged<nint, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;

    private Mpi(nint library, string name)
    {
        _library = library;
        Name = name;
        nint Symbol(string s) => NativeLibrary.TryGetExport(library, s, out var p) ? p
            : throw new DistributedException($"{name}: the MPI library has no symbol {s}: Open MPI 4 or 5 (libmpi.so.40) is what this binding knows");
        CommWorld = Symbol("ompi_mpi_comm_world");
        Float = Symbol("ompi_mpi_float");
        Double = Symbol("ompi_mpi_double");
        Int64 = Symbol("ompi_mpi_int64_t");
        OpSum = Symbol("ompi_mpi_op_sum");
        OpMax = Symbol("ompi_mpi_op_max");
        _initialized = (delegate* unmanaged<int*, int>)Symbol("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Symbol("MPI_Finalized");
        _initThread = (delegate* unmanaged<int*, nint, int, int*, int>)Symbol("MPI_Init_thread");
        _finalize = (delegate* unmanaged<int>)Symbol("MPI_Finalize");
        _commRank = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Symbol("MPI_Allreduce");
        _iallreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, nint*, int>)Symbol("MPI_Iallreduce");
        _wait = (delegate* unmanaged<nint*, nint, int>)Symbol("MPI_Wait");
        _test = (delegate* unmanaged<nint*, int*, nint, int>)Symbol("MPI_Test");
        _bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Symbol("MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Symbol("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Symbol("MPI_Abort");
    }

    /// <summary>Loads the system's MPI library; a <see cref="DistributedException"/> saying what to install when it is missing.</summary>
    public static Mpi Load()
    {
        foreach (var name in new[] { "libmpi.so.40", "libmpi.so" })
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                // the library's own plugins need its symbols global (dlopen RTLD_GLOBAL), as a linked C program has them
                return new Mpi(handle, name);
            }
        throw new DistributedException("launched by an MPI launcher, but no MPI library was found (libmpi.so.40): install Open MPI " +
                                       "(Debian: apt-get install openmpi-bin libopenmpi-dev)");
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new DistributedException($"{call} failed with MPI error code {code}");
    }

    public bool IsInitialized { get { int flag; Check(_initialized(&flag), "MPI_Initialized"); return flag != 0; } }

    public bool IsFinalized { get { int flag; Check(_finalized(&flag), "MPI_Finalized"); return flag != 0; } }

    public int InitThread(int required)
    {
        int provided;
        Check(_initThread(null, 0, required, &provided), "MPI_Init_thread");
        return provided;
    }

    public void FinalizeMpi() => Check(_finalize(), "MPI_Finalize");

    public int Rank() { int r; Check(_commRank(CommWorld, &r), "MPI_Comm_rank"); return r; }

    public int Size() { int s; Check(_commSize(CommWorld, &s), "MPI_Comm_size"); return s; }

    public void AllReduceInPlace(void* data, int count, nint type, nint op) =>
        Check(_allreduce(InPlace, (nint)data, count, type, op, CommWorld), "MPI_Allreduce");

    public nint AllReduceInPlaceAsync(void* data, int count, nint type, nint op)
    {
        nint request;
        Check(_iallreduce(InPlace, (nint)data, count, type, op, CommWorld, &request), "MPI_Iallreduce");
        return request;
    }

    public void Wait(ref nint request)
    {
        fixed (nint* r = &request) Check(_wait(r, 0), "MPI_Wait");
    }

    /// <summary>True when the request has completed (and is then freed); drives progress of non-blocking collectives.</summary>
    public bool Test(ref nint request)
    {
        int done;
        fixed (nint* r = &request) Check(_test(r, &done, 0), "MPI_Test");
        return done != 0;
    }

    public void Broadcast(void* data, int count, nint type, int root) =>
        Check(_bcast((nint)data, count, type, root, CommWorld), "MPI_Bcast");

    public void Barrier() => Check(_barrier(CommWorld), "MPI_Barrier");

    public void Abort(int code) => _abort(CommWorld, code);
}
