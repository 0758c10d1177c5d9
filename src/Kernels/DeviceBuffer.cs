using System.Runtime.InteropServices;

namespace Engine.Kernels;

/// <summary>A block of memory owned by one backend. Tensors hold these through a pool.</summary>
public abstract class DeviceBuffer : IDisposable
{
    /// <summary>The size in bytes.</summary>
    public abstract long ByteLength { get; }

    /// <summary>Releases the memory to the system (pools call this only when they trim).</summary>
    public abstract void Dispose();
}

/// <summary>
/// Host memory aligned to 64 bytes (a cache line and one AVX-512 vector), for <see cref="CpuBackend"/>.
/// It has no finalizer: its owner (the tensor storage pool) frees it explicitly.
/// </summary>
public sealed unsafe class NativeBuffer : DeviceBuffer
{
    private void* _pointer;
    private readonly long _bytes;

    /// <summary>Buffers from this size up are aligned to 2 MiB and offered to the kernel as huge pages.</summary>
    internal const long HugePageThreshold = 4 << 20;

    private const int HugePage = 2 << 20, MadvHugePage = 14;

    /// <summary>
    /// Allocates <paramref name="bytes"/> bytes, 64-byte aligned, uninitialised. On Linux, buffers of
    /// 4 MiB and more are 2 MiB-aligned and marked MADV_HUGEPAGE: one page fault per 2 MiB instead
    /// of 512, and far fewer TLB misses when kernels stream through them.
    /// </summary>
    public NativeBuffer(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _bytes = bytes;
        if (bytes >= HugePageThreshold && OperatingSystem.IsLinux())
        {
            long rounded = (bytes + HugePage - 1) / HugePage * HugePage;
            _pointer = NativeMemory.AlignedAlloc((nuint)rounded, HugePage);
            try { _ = Madvise((nint)_pointer, (nuint)rounded, MadvHugePage); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        else
            _pointer = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
        GC.AddMemoryPressure(Math.Max(bytes, 64));
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    /// <summary>The address of the first byte.</summary>
    public void* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(NativeBuffer));

    /// <inheritdoc/>
    public override long ByteLength => _bytes;

    /// <summary>The memory as a span of <typeparamref name="T"/> starting at element <paramref name="offset"/>.</summary>
    public Span<T> AsSpan<T>(long offset, long length) where T : unmanaged =>
        new((T*)Pointer + offset, checked((int)length));

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_pointer == null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
        GC.RemoveMemoryPressure(Math.Max(_bytes, 64));
    }
}
