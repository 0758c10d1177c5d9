namespace Engine.Data;

/// <summary>
/// Turns pixel values 0 … 255 into float32 values in [0, 1] by dividing by 255 (the value part of
/// torchvision's <c>ToTensor</c>; the layout is unchanged, images here are already [C, H, W]).
/// </summary>
public sealed class ToTensor : ITransform
{
    /// <summary>Float32 x / 255 for an input of any rank and dtype (except bool) holding 0 … 255.</summary>
    public Tensor Apply(Tensor batch)
    {
        if (batch.IsDisposed) throw new DisposedTensorException("ToTensor");
        if (batch.DType == DType.Bool) throw Errors.DTypeError("ToTensor", "dtype bool is not supported; ToTensor takes pixel values 0 … 255");
        using var f = batch.To(DType.Float32);
        return f / 255;
    }

    /// <summary>Bytes 0 … 255 as a float32 tensor of <paramref name="shape"/> with values in [0, 1].</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> pixels, params int[] shape) => Pixel.ToFloat(pixels, true, shape);
}
