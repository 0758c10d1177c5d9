using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>
/// The CPU backend: our own kernels over 64-byte-aligned host memory, SIMD (TensorPrimitives for
/// contiguous spans, Vector256/Vector512 intrinsics in the matrix and reduction kernels) and
/// split across cores by <see cref="WorkerPool"/>. Float32 and Float64 everywhere; Int32, Int64 and
/// Bool where <see cref="OpSupport"/> says so.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    /// <summary>The one instance.</summary>
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <summary>
    /// How many threads the kernels use (default: the number of cores, or ENGINE_NUM_THREADS). Setting it changes
    /// the whole process; <see cref="UseThreads"/> changes it for one thread in a scope. Results do not depend on it.
    /// </summary>
    public static int Threads
    {
        get => WorkerPool.Threads;
        set => WorkerPool.Threads = value;
    }

    /// <summary>
    /// Until the returned scope is disposed (on this thread), kernels started by this thread use at most
    /// <paramref name="threads"/> threads; other threads keep theirs.
    /// </summary>
    public static IDisposable UseThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        return KernelChoices.With(c => c with { Threads = threads });
    }

    /// <summary>
    /// The most memory the kernels keep weights in packed form in (default 512 MiB; 0: never). A convolution's
    /// weights are packed for the GEMM or the direct kernel on every call unless the same unchanged tensor was
    /// seen before; then the packed copy is made once and reused until the tensor is written (an optimizer step)
    /// or the budget evicts it, least recently used first. Inference and the per-image products of a step reuse it.
    /// </summary>
    public static long PackedWeightBudget
    {
        get => PackedWeights.Budget;
        set => PackedWeights.Budget = value;
    }

    /// <summary>Memory held by packed weights now (see <see cref="PackedWeightBudget"/>).</summary>
    public static long PackedWeightBytes => PackedWeights.Bytes;

    /// <summary>Drops every packed weight (the CPU memory pool's EmptyCache does too).</summary>
    public static void ClearPackedWeights() => PackedWeights.Clear();

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long bytes) => new NativeBuffer(bytes);

    /// <inheritdoc/>
    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged =>
        source.CopyTo(((NativeBuffer)destination).AsSpan<T>(offset, source.Length));

    /// <inheritdoc/>
    public void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged =>
        ((NativeBuffer)source).AsSpan<T>(offset, destination.Length).CopyTo(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T* Ptr<T>(in BufferView v) where T : unmanaged =>
        (T*)((NativeBuffer)v.Buffer).Pointer + v.Layout.Offset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint Addr<T>(in BufferView v) where T : unmanaged => (nint)Ptr<T>(v);

    internal static Exception Unsupported(string op, DType t) =>
        Errors.DTypeError(op, $"dtype {t.Name()} is not supported by the cpu backend");
}
