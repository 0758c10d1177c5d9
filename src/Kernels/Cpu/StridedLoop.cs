namespace Engine.Kernels;

/// <summary>
/// Walks up to four operands of the same shape (each with its own strides) as rows of an
/// innermost dimension, after dropping size-1 dimensions and merging dimensions that are
/// contiguous in every operand. A dense tensor becomes one long row; a broadcast [N, C] + [C]
/// becomes N rows where the second operand's row stride is 0. Large walks are split across threads.
/// </summary>
internal sealed class StridedLoop
{
    /// <summary>Elements below which a walk stays on the calling thread.</summary>
    public const long ParallelThreshold = 1 << 17;

    private readonly int[] _sizes;        // compacted sizes, outermost first
    private readonly long[][] _strides;   // per operand, compacted
    private readonly int _ops;

    public StridedLoop(ReadOnlySpan<int> shape, params long[][] strides)
    {
        _ops = strides.Length;
        (_sizes, _strides) = Dims.Coalesce(shape, strides);
        Numel = Layout.NumelOf(shape);
    }

    /// <summary>The number of elements walked.</summary>
    public long Numel { get; }

    /// <summary>
    /// Calls <paramref name="row"/>(offsets, innerStrides, length) for every row, where offsets are
    /// element offsets (relative to each operand's start) of the row's first element.
    /// </summary>
    public void Run(RowAction row, long cost = 1)
    {
        if (Numel == 0) return;
        int rank = _sizes.Length;
        Span<long> innerStrides = stackalloc long[_ops];
        if (rank == 0)
        {
            Span<long> zero = stackalloc long[_ops];
            row(zero, innerStrides, 1);
            return;
        }
        long inner = _sizes[rank - 1];
        long rows = Numel / inner;
        int parts = Numel * cost >= ParallelThreshold ? WorkerPool.Threads : 1;
        var innerSt = new long[_ops];
        for (int k = 0; k < _ops; k++) innerSt[k] = _strides[k][rank - 1];

        if (rows < parts)
        {
            // Few long rows: split each row into aligned chunks.
            long chunk = (inner + parts - 1) / parts;
            chunk = (chunk + 63) & ~63L;
            int chunksPerRow = (int)((inner + chunk - 1) / chunk);
            WorkerPool.Run((int)rows * chunksPerRow, p =>
            {
                long r = p / chunksPerRow, start = p % chunksPerRow * chunk;
                long len = Math.Min(chunk, inner - start);
                Span<long> off = stackalloc long[_ops];
                RowOffsets(r, off);
                for (int k = 0; k < _ops; k++) off[k] += start * innerSt[k];
                row(off, innerSt, len);
            });
            return;
        }
        WorkerPool.Run(parts, p =>
        {
            long r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
            Span<long> off = stackalloc long[_ops];
            Span<int> idx = stackalloc int[Math.Max(rank - 1, 1)];
            RowOffsets(r0, off, idx);
            for (long r = r0; r < r1; r++)
            {
                row(off, innerSt, inner);
                // odometer over the outer dims
                for (int d = rank - 2; d >= 0; d--)
                {
                    if (++idx[d] < _sizes[d])
                    {
                        for (int k = 0; k < _ops; k++) off[k] += _strides[k][d];
                        break;
                    }
                    idx[d] = 0;
                    for (int k = 0; k < _ops; k++) off[k] -= _strides[k][d] * (_sizes[d] - 1);
                }
            }
        });
    }

    private void RowOffsets(long r, Span<long> off, Span<int> idx = default)
    {
        off.Clear();
        int rank = _sizes.Length;
        for (int d = rank - 2; d >= 0; d--)
        {
            int i = (int)(r % _sizes[d]);
            r /= _sizes[d];
            if (!idx.IsEmpty) idx[d] = i;
            for (int k = 0; k < _ops; k++) off[k] += i * _strides[k][d];
        }
    }
}

/// <summary>One row of a strided walk: offsets of its first element per operand, the per-operand stride, the length.</summary>
internal delegate void RowAction(ReadOnlySpan<long> offsets, ReadOnlySpan<long> strides, long length);
