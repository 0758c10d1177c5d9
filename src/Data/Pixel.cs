namespace Engine.Data;

/// <summary>Conversions from 8-bit pixels to float tensors, shared by the readers and the transforms.</summary>
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

    /// <summary>
    /// Interleaved pixels (HWC: <paramref name="pixels"/> values of <paramref name="channels"/> bytes)
    /// to planes (CHW) divided by 255, written to <paramref name="destination"/>.
    /// </summary>
    public static void HwcToChw(ReadOnlySpan<byte> hwc, int pixels, int channels, Span<float> destination)
    {
        for (int c = 0; c < channels; c++)
        {
            var plane = destination.Slice(c * pixels, pixels);
            for (int p = 0, i = c; p < pixels; p++, i += channels) plane[p] = hwc[i] / 255f;
        }
    }
}
