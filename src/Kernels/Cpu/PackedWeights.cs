namespace Engine.Kernels;

/// <summary>
/// Weights packed for a kernel once and reused while the tensor holding them is unchanged (the ONNX
/// importer's fold cache, at the kernel level). A GEMM packs its A operand into MR-row panels and the
/// direct convolution its weights into output-channel panels on every call; for inference, and for the
/// per-image products of one training step, those are the same bytes each time, and for large layers
/// (ResNet18's last stage: 9.4 MB per convolution) re-reading and re-writing them costs a good part of
/// the arithmetic.
/// </summary>
/// <remarks>
/// <para>Identity: a <see cref="BufferView.Stamp"/> the tensor layer gives every storage when it is created
/// and again at every in-place write, never reused; 0 means "unknown" and is never cached. An entry is
/// keyed by the address, the packing's form and geometry, and remembers the stamp it was packed from: a
/// new stamp (the optimizer updated the weight) repacks it.</para>
/// <para>Policy: an operand is packed into the cache the second time the same stamp asks for it (a weight
/// used once per update, as in most training, keeps packing per call into cache-sized blocks, which is
/// faster than writing a whole packed copy to memory and reading it back). Entries live within
/// <see cref="Budget"/> bytes, least recently used first out. Entries are managed arrays on the pinned
/// heap: a caller holds the array while its kernel reads, so eviction by another thread never frees memory
/// in use.</para>
/// <para>Thread safety: the tables are behind one lock; packing runs outside it (two threads asking for the
/// same new entry may both pack it; one copy is kept).</para>
/// </remarks>
internal static unsafe class PackedWeights
{
    /// <summary>Which kernel's layout an entry holds.</summary>
    internal enum Form { GemmA, DirectConv, DirectBatchConv }

    /// <summary>What an entry packs: the source's address and everything that shapes the packed bytes.</summary>
    internal readonly record struct Key(nint Address, Form Form, int Rows, int Cols, long RowStride, long ColStride, int Variant, int ElementSize);

    /// <summary>Fills a packed entry.</summary>
    internal interface IPacker
    {
        void Pack(void* destination);
    }

    private sealed class Entry(long stamp, byte[] memory, nint pointer, long bytes)
    {
        public readonly long Stamp = stamp;
        public readonly byte[] Memory = memory;
        public readonly nint Pointer = pointer;
        public readonly long Bytes = bytes;
        public long LastUse;
    }

    private static readonly object s_lock = new();
    private static readonly Dictionary<Key, Entry> s_entries = [];
    private static readonly Dictionary<Key, long> s_seen = [];
    private static long s_bytes, s_clock;
    private static long s_budget = 512L << 20;

    /// <summary>The most bytes the cache holds (default 512 MiB); 0 turns it off. Lowering it evicts at once.</summary>
    internal static long Budget
    {
        get => Volatile.Read(ref s_budget);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (s_lock)
            {
                s_budget = value;
                EvictUntil(0);
            }
        }
    }

    /// <summary>Bytes held now.</summary>
    internal static long Bytes
    {
        get { lock (s_lock) return s_bytes; }
    }

    [ThreadStatic] private static long t_packs, t_hits;

    /// <summary>Entries packed and lookups served by requests made on this thread (for tests).</summary>
    internal static (long Packs, long Hits) ThisThread => (t_packs, t_hits);

    /// <summary>Drops every entry.</summary>
    internal static void Clear()
    {
        lock (s_lock)
        {
            s_entries.Clear();
            s_seen.Clear();
            s_bytes = 0;
        }
    }

    /// <summary>Whether this thread's kernels use the cache (tests compare both ways).</summary>
    internal static bool Enabled => KernelChoices.Current?.PackedWeights ?? true;

    /// <summary>Until disposed, this thread's kernels use the cache or not.</summary>
    internal static IDisposable Use(bool use) => KernelChoices.With(c => c with { PackedWeights = use });

    /// <summary>
    /// The packed bytes of <paramref name="key"/> at <paramref name="stamp"/> (<paramref name="bytes"/> long,
    /// 64-byte aligned), packing them with <paramref name="packer"/> when this is the stamp's second request;
    /// null when the caller should pack for itself. <paramref name="keep"/> must stay reachable while the
    /// bytes are read (<see cref="GC.KeepAlive"/> after the kernel).
    /// </summary>
    internal static void* Get<TPacker>(in Key key, long stamp, long bytes, in TPacker packer, out object? keep)
        where TPacker : struct, IPacker
    {
        keep = null;
        if (stamp == 0 || !Enabled) return null;
        lock (s_lock)
        {
            if (bytes > s_budget || bytes > Array.MaxLength - 64) return null;   // one managed array holds an entry
            if (s_entries.TryGetValue(key, out var hit) && hit.Stamp == stamp)
            {
                hit.LastUse = ++s_clock;
                t_hits++;
                keep = hit.Memory;
                return (void*)hit.Pointer;
            }
            if (!s_seen.TryGetValue(key, out long seen) || seen != stamp)
            {
                if (s_seen.Count >= 4096) s_seen.Clear();
                s_seen[key] = stamp;
                return null;
            }
        }
        var memory = GC.AllocateUninitializedArray<byte>(checked((int)(bytes + 63)), pinned: true);
        nint start;
        fixed (byte* p = memory) start = ((nint)p + 63) & ~(nint)63;
        packer.Pack((void*)start);
        var entry = new Entry(stamp, memory, start, bytes);
        lock (s_lock)
        {
            if (s_entries.Remove(key, out var old)) s_bytes -= old.Bytes;
            EvictUntil(bytes);
            if (s_bytes + bytes <= s_budget)
            {
                entry.LastUse = ++s_clock;
                s_entries[key] = entry;
                s_bytes += bytes;
                s_seen.Remove(key);
            }
        }
        t_packs++;
        keep = memory;
        return (void*)start;
    }

    /// <summary>Evicts least recently used entries until <paramref name="room"/> more bytes fit the budget.</summary>
    private static void EvictUntil(long room)
    {
        while (s_bytes + room > s_budget && s_entries.Count > 0)
        {
            var oldest = s_entries.MinBy(e => e.Value.LastUse);
            s_entries.Remove(oldest.Key);
            s_bytes -= oldest.Value.Bytes;
        }
    }
}
