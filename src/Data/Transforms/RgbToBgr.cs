namespace Engine.Data;

/// <summary>
/// Reverses the channel order, [B, 3, H, W] RGB → BGR (and back): for networks trained on BGR
/// pixels, such as Caffe's and CNTK's ImageNet models.
/// </summary>
public sealed class RgbToBgr : ITransform
{
    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (_, c, _, _) = ImageBatch.Check("RgbToBgr", batch);
        if (c != 3) throw Errors.ShapeError("RgbToBgr", batch.Shape, $"needs 3 channels, not {c}");
        using var order = Tensor.FromArray(new long[] { 2, 1, 0 });
        return batch.IndexSelect(1, order.To(batch.Device));
    }
}
