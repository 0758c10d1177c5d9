namespace Engine.Data;

/// <summary>
/// A dataset held in two tensors: inputs [N, …] and labels [N] (class indices) or regression
/// targets [N] or [N, k]. Batches are gathered with one <see cref="Tensor.IndexSelect"/> per tensor,
/// without a tensor per sample.
/// </summary>
public sealed class TensorDataset : IDataset, IDisposable
{
    private readonly long[]? _labels;

    /// <summary>
    /// Wraps <paramref name="inputs"/> [N, …] and <paramref name="labels"/>: class indices (int32 or
    /// int64, [N]) for classification, or float32/float64 targets ([N] or [N, k]) for regression
    /// (<c>MSELoss</c>, <c>HuberLoss</c>). The dataset takes ownership of both: it takes them out of
    /// any <see cref="TensorScope"/> and disposes them with itself (int32 labels are converted to int64
    /// and the original disposed).
    /// </summary>
    public TensorDataset(Tensor inputs, Tensor labels)
    {
        const string op = "TensorDataset";
        if (inputs.IsDisposed || labels.IsDisposed) throw new DisposedTensorException(op);
        bool classes = labels.DType.IsInteger();
        if (inputs.Rank == 0 || labels.Rank != 1 && (classes || labels.Rank != 2))
            throw Errors.ShapeError(op, inputs.Shape, labels.Shape, "needs inputs [N, ...] and labels [N] (class indices) or targets [N] or [N, k]");
        if (inputs.Size(0) != labels.Size(0))
            throw Errors.ShapeError(op, inputs.Shape, labels.Shape, $"inputs hold {inputs.Size(0)} samples but labels hold {labels.Size(0)}");
        if (!classes && !labels.DType.IsFloating())
            throw Errors.DTypeError(op, $"labels must be int32 or int64 class indices or float32/float64 targets, not {labels.DType.Name()}");
        Inputs = TensorScope.Escape(inputs);
        if (!classes)
        {
            Labels = TensorScope.Escape(labels);
            return;
        }
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

    /// <summary>All labels, int64 [N], or the float targets [N] or [N, k]; owned by the dataset.</summary>
    public Tensor Labels { get; }

    /// <summary>True when the labels are class indices (int64), false when they are float regression targets.</summary>
    public bool HasClassLabels => _labels is not null;

    /// <inheritdoc/>
    public int Count => Labels.Size(0);

    /// <summary>The label of sample <paramref name="index"/>, without touching the inputs (class labels only).</summary>
    public long LabelAt(int index)
    {
        CheckIndex("LabelAt", index);
        return ClassLabels("LabelAt")[index];
    }

    /// <summary>Sample <paramref name="index"/> with its class label (class labels only; batches of float targets come from <see cref="GetBatch"/>).</summary>
    public (Tensor Input, long Label) Get(int index)
    {
        CheckIndex("Get", index);
        return (Inputs.Select(0, index), ClassLabels("Get")[index]);
    }

    /// <inheritdoc/>
    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var picked = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex("GetBatch", indices[i]);
            picked[i] = indices[i];
        }
        using var index = Tensor.FromArray(picked);
        if (_labels is null) return new Batch(Inputs.IndexSelect(0, index), Labels.IndexSelect(0, index));
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++) labels[i] = _labels[indices[i]];
        return new Batch(Inputs.IndexSelect(0, index), Tensor.FromArray(labels));
    }

    private long[] ClassLabels(string op) => _labels ?? throw new DataException(
        $"TensorDataset.{op}: the labels are {Labels.DType.Name()} targets {Errors.Shape(Labels.Shape)}, not class indices; take batches with GetBatch or a DataLoader");

    private void CheckIndex(string op, int index)
    {
        if ((uint)index >= (uint)Count)
            throw Errors.IndexError($"TensorDataset.{op}", Inputs.Shape, $"sample {index} is out of range for {Count} samples");
    }

    /// <summary>Disposes the inputs and labels.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}
