using StbImageWriteSharp;

namespace Engine.Tests;

/// <summary>Image files made in tests: PNG, JPEG and BMP through StbImageWriteSharp, GIF written here from the format.</summary>
public static class TestImages
{
    /// <summary>Pixels (HWC, 1 or 3 channels) as a file of <paramref name="format"/>: png, jpg, bmp or gif (gif: grey only).</summary>
    public static byte[] Encode(string format, byte[] pixels, int width, int height, int channels)
    {
        if (format == "gif") return Gif(channels == 1 ? pixels : Grey(pixels), width, height);
        var stream = new MemoryStream();
        var writer = new ImageWriter();
        var comp = channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue;
        switch (format)
        {
            case "png": writer.WritePng(pixels, width, height, comp, stream); break;
            case "jpg" or "jpeg": writer.WriteJpg(pixels, width, height, comp, stream, 95); break;
            case "bmp": writer.WriteBmp(pixels, width, height, comp, stream); break;
            default: throw new ArgumentException(format);
        }
        return stream.ToArray();
    }

    private static byte[] Grey(byte[] rgb) => [.. Enumerable.Range(0, rgb.Length / 3).Select(i => (byte)((rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3))];

    /// <summary>
    /// A GIF89a of grey pixels: a 256-entry grey palette and LZW data of 9-bit literal codes, with a
    /// clear code every 254 literals so that the code size never grows (a valid, uncompressed stream).
    /// </summary>
    public static byte[] Gif(byte[] grey, int width, int height)
    {
        var f = new MemoryStream();
        f.Write("GIF89a"u8);
        f.Write([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0xF7, 0, 0]);
        for (int i = 0; i < 256; i++) f.Write([(byte)i, (byte)i, (byte)i]);
        f.Write([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, 8]);
        var bits = new List<bool>();
        void Code(int c) { for (int b = 0; b < 9; b++) bits.Add(((c >> b) & 1) != 0); }
        Code(256);
        for (int i = 0; i < grey.Length; i++)
        {
            if (i > 0 && i % 254 == 0) Code(256);
            Code(grey[i]);
        }
        Code(257);
        var bytes = new byte[(bits.Count + 7) / 8];
        for (int i = 0; i < bits.Count; i++) if (bits[i]) bytes[i / 8] |= (byte)(1 << (i % 8));
        for (int at = 0; at < bytes.Length; at += 255)
        {
            int n = Math.Min(255, bytes.Length - at);
            f.WriteByte((byte)n);
            f.Write(bytes, at, n);
        }
        f.Write([0, 0x3B]);
        return f.ToArray();
    }

    /// <summary>A grey 28×28 image (0-255) scaled to <paramref name="width"/> × <paramref name="height"/> (nearest pixel), as grey or tinted RGB.</summary>
    public static byte[] Scale(byte[] grey28, int width, int height, bool colour)
    {
        var o = new byte[width * height * (colour ? 3 : 1)];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = grey28[y * 28 / height * 28 + x * 28 / width];
                if (!colour) o[y * width + x] = v;
                else
                {
                    int at = 3 * (y * width + x);
                    (o[at], o[at + 1], o[at + 2]) = (v, (byte)(v * 3 / 4), (byte)(255 - v / 2));
                }
            }
        return o;
    }

    /// <summary>
    /// Writes <paramref name="perClass"/> images of each of the first <paramref name="classes"/> Fashion-MNIST
    /// classes under <paramref name="root"/> (DIR/class/…, or DIR/&lt;split&gt;/class/… for each split given),
    /// in turn PNG, JPEG, BMP and GIF, of varying sizes, grey and colour. Returns the class folder names.
    /// </summary>
    public static string[] FashionFolder(string root, int classes, int perClass, string[]? splits = null, int offset = 0)
    {
        using var data = Engine.Data.FashionMnist.LoadTrain();
        var labels = data.Labels.ToArray<long>();
        string[] names = [.. Engine.Data.FashionMnist.ClassNames.Take(classes).Select(n => n.Replace('/', '-').Replace(' ', '_'))];
        string[] formats = ["png", "jpg", "bmp", "gif"];
        foreach (var split in splits ?? [""])
            for (int c = 0; c < classes; c++)
            {
                string dir = Path.Combine(root, split, names[c]);
                Directory.CreateDirectory(dir);
                var indices = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Skip(offset + perClass * Array.IndexOf(splits ?? [""], split)).Take(perClass).ToList();
                for (int k = 0; k < indices.Count; k++)
                {
                    using var image = data.Inputs.Select(0, indices[k]);
                    var grey = image.ToArray<float>().Select(v => (byte)Math.Round(v * 255)).ToArray();
                    int w = 28 + 5 * (k % 4), h = 28 + 3 * (k % 3);
                    bool colour = k % 2 == 1;
                    string format = formats[k % formats.Length];
                    var pixels = Scale(grey, w, h, colour && format != "gif");
                    File.WriteAllBytes(Path.Combine(dir, $"{names[c]}_{k:D3}.{format}"), Encode(format, pixels, w, h, colour && format != "gif" ? 3 : 1));
                }
            }
        return names;
    }
}
