namespace Engine.Data;

/// <summary>
/// Repeats a single grey channel three times, [B, 1, H, W] → [B, 3, H, W], so greyscale images
/// can feed a network built for RGB (a pretrained ResNet).
/// </summary>
public sealed class GreyToRgb : ITransform
{
    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        var (b, c, h, w) = ImageBatch.Check("GreyToRgb", batch);
        if (c != 1) throw Errors.ShapeError("GreyToRgb", batch.Shape, $"needs 1 channel, not {c}");
        var y = Tensor.Empty([b, 3, h, w], batch.DType, batch.Device);
        y.CopyFrom(batch);
        return y;
    }
}
