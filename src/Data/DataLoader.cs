using System.Collections;

namespace Engine.Data;

/// <summary>
/// Cuts a dataset into batches, PyTorch's <c>DataLoader</c>: a batch size, an optional seeded
/// shuffle, drop-last, and an optional transform applied to each batch's inputs.
/// </summary>
/// <remarks>
/// Enumerating the loader (<c>foreach</c>) yields one epoch and advances <see cref="Epoch"/>, so
/// successive epochs see different orders; <see cref="Batches(int)"/> yields a given epoch. The
/// order of epoch e is a permutation drawn from a <see cref="Generator"/> seeded with a mix of
/// (<see cref="Seed"/>, e): the same seed and epoch always give the same order, on any machine.
/// Each batch is made by one <see cref="IDataset.GetBatch"/> call (one gather for a
/// <see cref="TensorDataset"/>). Batches are new tensors owned by the caller:
/// <code>
/// foreach (var batch in loader)
///     using (batch) { ... batch.Inputs ... batch.Labels ... }
/// </code>
/// </remarks>
public sealed class DataLoader : IEnumerable<Batch>
{
    /// <summary>Batches of <paramref name="batchSize"/> samples of <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (the last batch may be smaller unless <paramref name="dropLast"/>).</param>
    /// <param name="shuffle">Visit the samples in a new random order each epoch; otherwise in index order.</param>
    /// <param name="seed">The seed of the shuffle.</param>
    /// <param name="dropLast">Leave out a last batch smaller than <paramref name="batchSize"/>.</param>
    /// <param name="transform">Applied to each batch's inputs [B, …]; the untransformed inputs are disposed.</param>
    public DataLoader(IDataset dataset, int batchSize, bool shuffle = false, ulong seed = 0, bool dropLast = false, ITransform? transform = null)
    {
        if (batchSize < 1) throw new EngineException($"DataLoader: batch size {batchSize}: must be at least 1");
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        Transform = transform;
    }

    /// <summary>The samples.</summary>
    public IDataset Dataset { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed of the shuffle.</summary>
    public ulong Seed { get; }

    /// <summary>Whether a last, smaller batch is left out.</summary>
    public bool DropLast { get; }

    /// <summary>The transform applied to each batch's inputs, if any.</summary>
    public ITransform? Transform { get; }

    /// <summary>The epoch the next enumeration yields; each enumeration uses it and then adds 1.</summary>
    public int Epoch { get; set; }

    private (int Rank, int Count) _shard = (0, 1);

    /// <summary>
    /// For data-parallel training: this process is number <c>Rank</c> of <c>Count</c>, and each epoch's
    /// order is cut into global batches of <see cref="BatchSize"/> × Count samples, of which this loader
    /// yields the Rank-th slice of <see cref="BatchSize"/>. Every process uses the same seed, so together they
    /// visit exactly the batches one process with a batch of BatchSize × Count would, and no sample twice. A last
    /// global batch too small to give every process a sample is left out. Default (0, 1): the whole batch.
    /// </summary>
    public (int Rank, int Count) Shard
    {
        get => _shard;
        init
        {
            if (value.Count < 1 || value.Rank < 0 || value.Rank >= value.Count)
                throw new EngineException($"DataLoader: shard {value.Rank} of {value.Count}: the count must be at least 1 and the rank in 0 … count − 1");
            _shard = value;
        }
    }

    private long GlobalBatch => (long)BatchSize * _shard.Count;

    /// <summary>The number of batches per epoch (for a shard: the number of global batches, the same on every process).</summary>
    public int BatchCount
    {
        get
        {
            long n = Dataset.Count, g = GlobalBatch;
            if (DropLast) return (int)(n / g);
            long full = n / g, rest = n % g;
            return (int)(full + (rest >= _shard.Count ? 1 : 0));
        }
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the dataset's indices.</summary>
    public int[] Order(int epoch) =>
        Shuffle ? Seeds.Permutation(Dataset.Count, Seeds.Mix(Seed, (ulong)epoch)) : [.. Enumerable.Range(0, Dataset.Count)];

    /// <summary>The batches of epoch <paramref name="epoch"/>, each owned by the caller.</summary>
    public IEnumerable<Batch> Batches(int epoch)
    {
        var order = Order(epoch);
        int batches = BatchCount;
        for (int b = 0; b < batches; b++)
        {
            long globalStart = b * GlobalBatch;
            int globalLength = (int)Math.Min(GlobalBatch, order.Length - globalStart);
            // this process's slice: equal shares of a full global batch; of a last, smaller one, shares that differ by at most one
            int share = globalLength / _shard.Count, extra = globalLength % _shard.Count;
            long start = globalStart + (long)_shard.Rank * share + Math.Min(_shard.Rank, extra);
            int length = share + (_shard.Rank < extra ? 1 : 0);
            yield return Make(order, (int)start, length);
        }
    }

    private Batch Make(int[] order, int start, int length)
    {
        var batch = Dataset.GetBatch(order.AsSpan(start, length));
        if (Transform is null) return batch;
        Tensor inputs;
        try
        {
            inputs = Transform.Apply(batch.Inputs);
        }
        catch
        {
            batch.Dispose();
            throw;
        }
        if (ReferenceEquals(inputs, batch.Inputs)) return batch;
        batch.Inputs.Dispose();
        return new Batch(inputs, batch.Labels);
    }

    /// <summary>Yields epoch <see cref="Epoch"/> and advances it.</summary>
    public IEnumerator<Batch> GetEnumerator() => Batches(Epoch++).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
