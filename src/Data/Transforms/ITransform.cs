namespace Engine.Data;

/// <summary>
/// A change applied to a whole batch of inputs, such as normalisation or augmentation. The image
/// transforms take float batches [B, C, H, W].
/// </summary>
public interface ITransform
{
    /// <summary>
    /// The transformed batch: a new tensor the caller owns. <paramref name="batch"/> is left
    /// unchanged and still belongs to the caller.
    /// </summary>
    Tensor Apply(Tensor batch);
}
