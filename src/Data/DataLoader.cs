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

    /// <summary>The number of batches per epoch.</summary>
    public int BatchCount => DropLast ? Dataset.Count / BatchSize : (int)(((long)Dataset.Count + BatchSize - 1) / BatchSize);

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
            int start = b * BatchSize;
            yield return Make(order, start, Math.Min(BatchSize, order.Length - start));
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
