namespace Engine.Data;

/// <summary>
/// A batch of samples: <see cref="Inputs"/> [B, …] and <see cref="Labels"/> (int64 class indices [B],
/// or float regression targets [B] or [B, k]). Its tensors
/// are new and belong to whoever received the batch: dispose it (<c>foreach (var b in loader) using (b) { … }</c>)
/// or create it inside a <see cref="Tensor.Scope"/>.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary>Wraps inputs [B, …] and labels [B] (or targets [B, k]); the batch takes ownership of both.</summary>
    public Batch(Tensor inputs, Tensor labels)
    {
        if (inputs.Rank == 0 || labels.Rank == 0 || inputs.Size(0) != labels.Size(0))
            throw Errors.ShapeError("Batch", inputs.Shape, labels.Shape, "inputs [B, ...] and labels [B, ...] must agree on the batch size B");
        Inputs = inputs;
        Labels = labels;
    }

    /// <summary>The inputs, [B, …].</summary>
    public Tensor Inputs { get; }

    /// <summary>The labels: int64 class indices [B], or float targets [B] or [B, k] (see <see cref="TensorDataset"/>).</summary>
    public Tensor Labels { get; }

    /// <summary>The number of samples B.</summary>
    public int Count => Labels.Size(0);

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}
