namespace Engine.Data;

/// <summary>
/// A labelled collection of samples with random access, PyTorch's map-style <c>Dataset</c>:
/// <see cref="Count"/> samples, each an input tensor and a class label.
/// </summary>
public interface IDataset
{
    /// <summary>The number of samples.</summary>
    int Count { get; }

    /// <summary>
    /// Sample <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>): its input (a new handle
    /// the caller disposes) and its label.
    /// </summary>
    (Tensor Input, long Label) Get(int index);

    /// <summary>
    /// The samples at <paramref name="indices"/>, stacked into one batch whose tensors the caller
    /// owns. The default stacks <see cref="Get"/> sample by sample; tensor-backed datasets override
    /// it with one gather per batch.
    /// </summary>
    Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var inputs = new Tensor[indices.Length];
        var labels = new long[indices.Length];
        try
        {
            for (int i = 0; i < indices.Length; i++) (inputs[i], labels[i]) = Get(indices[i]);
            return new Batch(Tensor.Stack(inputs), Tensor.FromArray(labels));
        }
        finally
        {
            foreach (var t in inputs) t?.Dispose();
        }
    }
}
