using Engine.Kernels;

namespace Engine;

/// <summary>
/// A reference-counted buffer shared by a tensor and its views. Each live (undisposed) tensor
/// handle holds one reference; the last release returns the buffer to its pool. A storage whose
/// handles were dropped without disposal is returned by its finalizer instead.
/// </summary>
internal sealed class Storage
{
    private readonly MemoryPool _pool;
    private DeviceBuffer? _buffer;
    private int _refs = 1;

    public Storage(Device device, long bytes)
    {
        Device = device;
        _pool = MemoryPool.For(device);
        _buffer = _pool.Rent(bytes);
    }

    public Device Device { get; }

    /// <summary>Bumped by every in-place write through any view of this storage.</summary>
    public int Version;

    private static long s_stamps;

    /// <summary>
    /// A number no other contents of any storage had: fresh at creation and after every in-place write
    /// (<see cref="Touch"/>). Kernels key work derived from the contents on it (BufferView.Stamp).
    /// </summary>
    public long Stamp = Interlocked.Increment(ref s_stamps);

    /// <summary>Records an in-place write: a new version and a new stamp.</summary>
    public void Touch()
    {
        Interlocked.Increment(ref Version);
        Volatile.Write(ref Stamp, Interlocked.Increment(ref s_stamps));
    }

    public DeviceBuffer Buffer => _buffer ?? throw new ObjectDisposedException(nameof(Storage));

    public IBackend Backend => Device.Backend;

    /// <summary>Live tensor handles on this storage.</summary>
    public int References => Volatile.Read(ref _refs);

    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
            throw new ObjectDisposedException(nameof(Storage));
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Free();
    }

    private void Free()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b == null) return;
        _pool.Return(b);
        GC.SuppressFinalize(this);
    }

    ~Storage() => Free();
}
