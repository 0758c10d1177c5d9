namespace Engine.Data;

/// <summary>
/// The samples of another dataset at a list of indices (PyTorch's <c>Subset</c>), as made by
/// <see cref="Datasets.RandomSplit(IDataset, IReadOnlyList{int}, ulong)"/>. Batches are gathered by
/// the underlying dataset, so a subset of a <see cref="TensorDataset"/> is as cheap to batch.
/// </summary>
public sealed class Subset : IDataset
{
    private readonly int[] _indices;

    /// <summary>The samples of <paramref name="dataset"/> at <paramref name="indices"/>, in that order.</summary>
    public Subset(IDataset dataset, IReadOnlyList<int> indices)
    {
        Dataset = dataset;
        _indices = [.. indices];
        foreach (int i in _indices)
            if ((uint)i >= (uint)dataset.Count)
                throw Errors.IndexError("Subset", [dataset.Count], $"index {i} is out of range for a dataset of {dataset.Count} samples");
    }

    /// <summary>The dataset the samples come from.</summary>
    public IDataset Dataset { get; }

    /// <summary>The indices into <see cref="Dataset"/>.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    public (Tensor Input, long Label) Get(int index)
    {
        CheckIndex(index);
        return Dataset.Get(_indices[index]);
    }

    /// <inheritdoc/>
    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var mapped = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            mapped[i] = _indices[indices[i]];
        }
        return Dataset.GetBatch(mapped);
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)_indices.Length)
            throw Errors.IndexError("Subset", [_indices.Length], $"sample {index} is out of range for {_indices.Length} samples");
    }
}
