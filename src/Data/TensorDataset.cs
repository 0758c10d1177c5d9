namespace Engine.Data;

/// <summary>
/// A dataset held in two tensors: inputs [N, …] and labels [N]. Batches are gathered with one
/// <see cref="Tensor.IndexSelect"/> per tensor, without a tensor per sample.
/// </summary>
public sealed class TensorDataset : IDataset, IDisposable
{
    private readonly long[] _labels;

    /// <summary>
    /// Wraps <paramref name="inputs"/> [N, …] and <paramref name="labels"/> (int32 or int64, [N]).
    /// The dataset takes ownership of both: it takes them out of any <see cref="TensorScope"/> and
    /// disposes them with itself (int32 labels are converted to int64 and the original disposed).
    /// </summary>
    public TensorDataset(Tensor inputs, Tensor labels)
    {
        const string op = "TensorDataset";
        if (inputs.IsDisposed || labels.IsDisposed) throw new DisposedTensorException(op);
        if (inputs.Rank == 0 || labels.Rank != 1)
            throw Errors.ShapeError(op, inputs.Shape, labels.Shape, "needs inputs [N, ...] and labels [N]");
        if (inputs.Size(0) != labels.Size(0))
            throw Errors.ShapeError(op, inputs.Shape, labels.Shape, $"inputs hold {inputs.Size(0)} samples but labels hold {labels.Size(0)}");
        if (!labels.DType.IsInteger())
            throw Errors.DTypeError(op, $"labels must be int32 or int64, not {labels.DType.Name()}");
        Inputs = TensorScope.Escape(inputs);
        if (labels.DType != DType.Int64)
        {
            var converted = labels.To(DType.Int64);
            labels.Dispose();
            labels = converted;
        }
        Labels = TensorScope.Escape(labels);
        _labels = Labels.ToArray<long>();
    }

    /// <summary>All inputs, [N, …]; owned by the dataset.</summary>
    public Tensor Inputs { get; }

    /// <summary>All labels, int64 [N]; owned by the dataset.</summary>
    public Tensor Labels { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <summary>The label of sample <paramref name="index"/>, without touching the inputs.</summary>
    public long LabelAt(int index)
    {
        CheckIndex("LabelAt", index);
        return _labels[index];
    }

    /// <inheritdoc/>
    public (Tensor Input, long Label) Get(int index)
    {
        CheckIndex("Get", index);
        return (Inputs.Select(0, index), _labels[index]);
    }

    /// <inheritdoc/>
    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var picked = new long[indices.Length];
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex("GetBatch", indices[i]);
            picked[i] = indices[i];
            labels[i] = _labels[indices[i]];
        }
        using var index = Tensor.FromArray(picked);
        return new Batch(Inputs.IndexSelect(0, index), Tensor.FromArray(labels));
    }

    private void CheckIndex(string op, int index)
    {
        if ((uint)index >= (uint)_labels.Length)
            throw Errors.IndexError($"TensorDataset.{op}", Inputs.Shape, $"sample {index} is out of range for {_labels.Length} samples");
    }

    /// <summary>Disposes the inputs and labels.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}
