namespace Engine.Data;

/// <summary>Conversions from 8-bit pixels to float tensors, shared by the reader and the transforms.</summary>
internal static class Pixel
{
    /// <summary>The bytes as a float32 tensor of <paramref name="shape"/>, divided by 255 when <paramref name="scale"/> is set.</summary>
    public static Tensor ToFloat(ReadOnlySpan<byte> pixels, bool scale, params int[] shape)
    {
        var values = new float[pixels.Length];
        if (scale)
            for (int i = 0; i < values.Length; i++) values[i] = pixels[i] / 255f;
        else
            for (int i = 0; i < values.Length; i++) values[i] = pixels[i];
        return Tensor.FromArray(values, shape);
    }
}
