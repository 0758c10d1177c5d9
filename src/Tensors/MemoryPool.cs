using Engine.Kernels;

namespace Engine;

/// <summary>A snapshot of a memory pool's counters, in bytes of buffer capacity.</summary>
/// <param name="AllocatedBytes">Held by live tensors now.</param>
/// <param name="CachedBytes">Free in the pool, ready for reuse.</param>
/// <param name="PeakAllocatedBytes">The most ever held by live tensors at once.</param>
/// <param name="SystemAllocations">Buffers obtained from the backend (each a fresh allocation).</param>
/// <param name="Reuses">Requests served from the cache.</param>
public readonly record struct PoolStatistics(long AllocatedBytes, long CachedBytes, long PeakAllocatedBytes, long SystemAllocations, long Reuses);

/// <summary>
/// A caching allocator of device buffers by size class. Disposing a tensor returns its buffer
/// here and the next request of that class reuses it, so steady-state training allocates nothing:
/// on the machines we run on, the first touch of each fresh 4 KiB page costs 10-15 µs, which
/// would dominate an engine that allocated per op.
/// </summary>
/// <remarks>
/// Size classes: multiples of 64 bytes up to 1 KiB, then four classes per power of two
/// (1, 1.25, 1.5, 1.75 × 2ᵏ), so at most 25 % of a buffer is slack.
/// </remarks>
public sealed class MemoryPool
{
    private static readonly Dictionary<Device, MemoryPool> s_pools = [];
    private readonly IBackend _backend;
    private readonly Device _device;
    private readonly Dictionary<long, Stack<DeviceBuffer>> _free = [];
    private readonly object _lock = new();
    private long _allocated, _cached, _peak, _systemAllocations, _reuses;

    private MemoryPool(Device device)
    {
        _device = device;
        _backend = device.Backend;
        Budget = _backend.MemoryBudget;
    }

    /// <summary>
    /// The most bytes this pool holds, in use and cached together (GPUs: 90 % of the device's
    /// memory; the CPU: unlimited). A request that would pass it first frees the cache; one that
    /// still does not fit fails with a <see cref="DeviceException"/> naming the device and the sizes.
    /// </summary>
    public long Budget { get; set; }

    /// <summary>The pool of <paramref name="device"/>.</summary>
    public static MemoryPool For(Device device)
    {
        lock (s_pools)
        {
            if (!s_pools.TryGetValue(device, out var pool))
                s_pools[device] = pool = new MemoryPool(device);
            return pool;
        }
    }

    /// <summary>The CPU's pool.</summary>
    public static MemoryPool Cpu => For(Device.Cpu);

    /// <summary>The current counters.</summary>
    public PoolStatistics Statistics
    {
        get { lock (_lock) return new(_allocated, _cached, _peak, _systemAllocations, _reuses); }
    }

    /// <summary>Frees every cached buffer back to the system (on the CPU, the kernels' packed weights too).</summary>
    public void EmptyCache()
    {
        lock (_lock) FreeCached();
        if (_backend is CpuBackend) CpuBackend.ClearPackedWeights();
    }

    private void FreeCached()
    {
        foreach (var stack in _free.Values)
            while (stack.Count > 0) stack.Pop().Dispose();
        _cached = 0;
    }

    /// <summary>The capacity a request of <paramref name="bytes"/> bytes is served with.</summary>
    public static long SizeClass(long bytes)
    {
        if (bytes <= 1024) return Math.Max(64, (bytes + 63) & ~63L);
        int k = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)bytes);
        long quarter = 1L << (k - 2);
        return (bytes + quarter - 1) / quarter * quarter;
    }

    internal DeviceBuffer Rent(long bytes)
    {
        long size = SizeClass(bytes);
        lock (_lock)
        {
            _allocated += size;
            _peak = Math.Max(_peak, _allocated);
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                _cached -= size;
                _reuses++;
                return stack.Pop();
            }
            if (_allocated + _cached > Budget) FreeCached();
            if (_allocated > Budget)
            {
                _allocated -= size;
                throw new DeviceException($"{_device}: out of memory: {size} bytes requested with {_allocated} in use; the pool's budget is {Budget} bytes");
            }
            _systemAllocations++;
        }
        try
        {
            return _backend.Allocate(size);
        }
        catch (Exception e) when (e is not DeviceException)
        {
            // the device may be holding our cached buffers: give them back and try once more
            lock (_lock) FreeCached();
            try { return _backend.Allocate(size); }
            catch (Exception again) when (again is not DeviceException)
            {
                lock (_lock) _allocated -= size;
                throw new DeviceException($"{_device}: out of memory: {size} bytes could not be allocated ({again.GetType().Name}: {again.Message})");
            }
        }
    }

    internal void Return(DeviceBuffer buffer)
    {
        long size = buffer.ByteLength;
        lock (_lock)
        {
            _allocated -= size;
            _cached += size;
            if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new Stack<DeviceBuffer>();
            stack.Push(buffer);
        }
    }
}
