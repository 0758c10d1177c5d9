namespace Engine.Data;

/// <summary>
/// Resamples 8-bit interleaved images with a triangle (bilinear) filter widened by the reduction
/// factor, so that shrinking a photo averages every source pixel instead of sampling a few
/// (antialiasing, as Pillow's bilinear resize and torchvision's <c>antialias=True</c> do).
/// </summary>
/// <remarks>
/// Along an axis, a region of n source pixels starting at a becomes m outputs. Output i is centred
/// at c = a + (i + ½)·n/m in source coordinates; with r = max(n/m, 1), source pixel j (centre j + ½)
/// gets the weight max(0, 1 − |j + ½ − c| / r), the weights of the pixels inside the image are
/// normalised to sum to 1, and y[i] = Σ w_j·x[j]. For r = 1 this is plain bilinear interpolation.
/// The filter is applied along rows, then along columns, and rounded to the nearest byte.
/// </remarks>
internal static class Resampler
{
    /// <summary>
    /// The region (<paramref name="x0"/>, <paramref name="y0"/>, <paramref name="w"/> × <paramref name="h"/>)
    /// of <paramref name="image"/> resampled to <paramref name="outW"/> × <paramref name="outH"/>.
    /// </summary>
    public static DecodedImage Resample(DecodedImage image, double x0, double y0, double w, double h, int outW, int outH)
    {
        int c = image.Channels;
        var cols = Taps(image.Width, x0, w, outW);
        var rows = Taps(image.Height, y0, h, outH);
        int firstRow = rows.Start[0], lastRow = rows.Start[outH - 1] + rows.Count[outH - 1];
        // rows pass: every source row the columns pass needs, resampled to outW pixels
        var across = new float[(lastRow - firstRow) * outW * c];
        var src = image.Pixels;
        for (int y = firstRow; y < lastRow; y++)
        {
            int row = y * image.Width * c, dst = (y - firstRow) * outW * c;
            for (int x = 0; x < outW; x++)
            {
                int s = cols.Start[x], n = cols.Count[x], wAt = cols.Offset[x];
                for (int k = 0; k < c; k++)
                {
                    float sum = 0;
                    for (int t = 0; t < n; t++) sum += cols.Weight[wAt + t] * src[row + (s + t) * c + k];
                    across[dst + x * c + k] = sum;
                }
            }
        }
        var result = new byte[outW * outH * c];
        int line = outW * c;
        for (int y = 0; y < outH; y++)
        {
            int s = rows.Start[y] - firstRow, n = rows.Count[y], wAt = rows.Offset[y];
            for (int i = 0; i < line; i++)
            {
                float sum = 0;
                for (int t = 0; t < n; t++) sum += rows.Weight[wAt + t] * across[(s + t) * line + i];
                result[y * line + i] = (byte)Math.Clamp(MathF.Round(sum), 0, 255);
            }
        }
        return new DecodedImage(outW, outH, c, result);
    }

    /// <summary>For each output: the first source pixel, how many it reads, and where its weights start.</summary>
    private sealed record TapTable(int[] Start, int[] Count, int[] Offset, float[] Weight);

    private static TapTable Taps(int size, double start, double length, int outputs)
    {
        double scale = length / outputs, radius = Math.Max(scale, 1);
        var first = new int[outputs];
        var count = new int[outputs];
        var offset = new int[outputs];
        var weights = new List<float>();
        for (int i = 0; i < outputs; i++)
        {
            double centre = start + (i + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(centre - radius)), hi = Math.Min(size, (int)Math.Ceiling(centre + radius));
            double total = 0;
            for (int j = lo; j < hi; j++) total += Math.Max(0, 1 - Math.Abs(j + 0.5 - centre) / radius);
            if (total <= 0)
            {
                // the window fell between pixel centres at the border: take the nearest pixel
                lo = Math.Clamp((int)Math.Floor(centre), 0, size - 1);
                hi = lo + 1;
            }
            first[i] = lo;
            count[i] = hi - lo;
            offset[i] = weights.Count;
            for (int j = lo; j < hi; j++)
                weights.Add(total <= 0 ? 1f : (float)(Math.Max(0, 1 - Math.Abs(j + 0.5 - centre) / radius) / total));
        }
        return new TapTable(first, count, offset, [.. weights]);
    }
}
