using System.Buffers.Binary;
using System.IO.Compression;
using Engine.Data;

namespace Engine.Tests;

/// <summary>
/// <see cref="ImageDecoder"/>: every format and mode decodes, and any bytes give an image or a
/// <see cref="DataException"/> naming the file: never a hang, a crash or a huge allocation.
/// </summary>
public sealed class ImageDecoderTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static byte[] Gradient(int w, int h, int c) =>
        [.. Enumerable.Range(0, w * h * c).Select(i => (byte)((i / c % w) * 255 / Math.Max(1, w - 1) ^ (i % c) * 60))];

    /// <summary>Runs <paramref name="body"/> on its own thread and fails (instead of hanging) if it does not end within a generous minute.</summary>
    private static void Terminates(Action body)
    {
        Exception? error = null;
        var t = new Thread(() => { try { body(); } catch (Exception e) { error = e; } }) { IsBackground = true };
        t.Start();
        Assert.True(t.Join(TimeSpan.FromMinutes(1)), "the decoder did not return: it hangs");
        if (error is not null) throw new Xunit.Sdk.XunitException($"unexpected {error.GetType().Name}: {error.Message}");
    }

    [Theory]
    [InlineData("png", 3)]
    [InlineData("png", 1)]
    [InlineData("bmp", 3)]
    [InlineData("gif", 1)]
    public void Lossless_formats_decode_to_the_exact_pixels(string format, int channels)
    {
        var pixels = Gradient(19, 11, channels);
        var bytes = TestImages.Encode(format, pixels, 19, 11, channels);
        var image = ImageDecoder.Decode(bytes, "x." + format, grey: channels == 1);
        Assert.Equal((19, 11, channels), (image.Width, image.Height, image.Channels));
        Assert.Equal(pixels, image.Pixels);
        Assert.Equal(format switch { "png" => ImageFormat.Png, "bmp" => ImageFormat.Bmp, _ => ImageFormat.Gif }, ImageDecoder.DetectFormat(bytes));
    }

    [Fact]
    public void Jpeg_decodes_close_to_its_pixels_and_modes_convert()
    {
        var pixels = Gradient(32, 24, 3);
        var bytes = TestImages.Encode("jpg", pixels, 32, 24, 3);
        var rgb = ImageDecoder.Decode(bytes, "x.jpg");
        Assert.Equal(ImageFormat.Jpeg, ImageDecoder.DetectFormat(bytes));
        Assert.True(pixels.Zip(rgb.Pixels).Average(p => Math.Abs(p.First - p.Second)) < 8, "JPEG at quality 95 stays close");
        // grey from colour is luma; colour from grey repeats the value
        var grey = ImageDecoder.Decode(bytes, "x.jpg", grey: true);
        Assert.Equal(1, grey.Channels);
        var greyPng = TestImages.Encode("png", Gradient(5, 4, 1), 5, 4, 1);
        var asRgb = ImageDecoder.Decode(greyPng, "g.png");
        Assert.Equal(3, asRgb.Channels);
        for (int i = 0; i < 20; i++) Assert.True(asRgb.Pixels[3 * i] == asRgb.Pixels[3 * i + 1] && asRgb.Pixels[3 * i + 1] == asRgb.Pixels[3 * i + 2]);
    }

    [Fact]
    public void The_format_comes_from_the_bytes_not_the_extension()
    {
        var png = TestImages.Encode("png", Gradient(4, 4, 3), 4, 4, 3);
        string path = Path.Combine(Directory.CreateTempSubdirectory("engine-img-").FullName, "really-a-png.jpg");
        File.WriteAllBytes(path, png);
        Assert.Equal(4, ImageDecoder.Read(path).Width);
        var e = Assert.Throws<DataException>(() => ImageDecoder.Decode("<html>hello</html>"u8.ToArray(), "page.jpg"));
        Assert.Equal("page.jpg: not a PNG, JPEG, BMP or GIF image (it starts with 3C68746D6C3E6865)", e.Message);
        Assert.StartsWith("empty.png: the file is empty", Assert.Throws<DataException>(() => ImageDecoder.Decode([], "empty.png")).Message);
        Assert.Contains("no such image file", Assert.Throws<DataException>(() => ImageDecoder.Read(path + ".missing")).Message);
    }

    /// <summary>The file that made the old decoder spin forever: a JPEG whose APP0 segment claims bytes past the end.</summary>
    [Fact]
    public void A_truncated_jpeg_header_is_an_error_not_a_hang()
    {
        byte[] header = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00];
        Terminates(() => Assert.StartsWith("cut.jpg: truncated JPEG", Assert.Throws<DataException>(() => ImageDecoder.Decode(header, "cut.jpg")).Message));
        // a JPEG start followed by garbage, 504 bytes as in the report
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            var junk = new byte[504];
            rng.NextBytes(junk);
            header.AsSpan(0, 4).CopyTo(junk);
            Terminates(() => Assert.Throws<DataException>(() => ImageDecoder.Decode(junk, "junk.jpg")));
        }
        // every prefix of a real JPEG fails: a file is decoded only whole
        var jpeg = TestImages.Encode("jpg", Gradient(20, 12, 3), 20, 12, 3);
        var decoded = new List<int>();
        Terminates(() =>
        {
            for (int n = 1; n <= jpeg.Length; n++)
                try
                {
                    ImageDecoder.Decode(jpeg[..n], "j.jpg");
                    decoded.Add(n);
                }
                catch (DataException e)
                {
                    Assert.StartsWith("j.jpg: ", e.Message);
                }
        });
        Assert.Equal([jpeg.Length], decoded);
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var c = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(c, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(c, 4);
        data.CopyTo(c, 8);
        return c;
    }

    private static byte[] Png(uint width, uint height, byte[] idat)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 0;
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat), .. Chunk("IEND", [])];
    }

    [Fact]
    public void Sizes_beyond_the_limit_are_refused_before_anything_is_allocated()
    {
        var huge = Png(100_000, 100_000, [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Assert.Equal("huge.png: 100000x100000 is 10000 megapixels, more than the limit of 100", Assert.Throws<DataException>(() => ImageDecoder.Decode(huge, "huge.png")).Message);
        var small = TestImages.Encode("png", Gradient(30, 30, 3), 30, 30, 3);
        var limited = new ImageDecodeOptions { MaxPixels = 500 };
        Assert.Contains("30x30 is 0 megapixels, more than the limit of 0", Assert.Throws<DataException>(() => ImageDecoder.Decode(small, "s.png", options: limited)).Message);
        var jpeg = TestImages.Encode("jpg", Gradient(30, 30, 3), 30, 30, 3);
        Assert.Contains("more than the limit", Assert.Throws<DataException>(() => ImageDecoder.Decode(jpeg, "s.jpg", options: limited)).Message);
        Assert.Contains("larger than the 100-byte limit", Assert.Throws<DataException>(() => ImageDecoder.Decode(jpeg, "s.jpg", options: new ImageDecodeOptions { MaxFileBytes = 100 })).Message);
    }

    [Fact]
    public void A_png_whose_data_inflates_far_beyond_its_size_is_refused()
    {
        // a 10×10 grey image needs 10 × (1 + 10) = 110 bytes; this stream inflates to 4 MB of zeros
        var bomb = new MemoryStream();
        using (var z = new ZLibStream(bomb, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[4 << 20]);
        var e = Assert.Throws<DataException>(() => ImageDecoder.Decode(Png(10, 10, bomb.ToArray()), "bomb.png"));
        Assert.Contains("bomb.png: corrupt PNG: the image data inflates to more than", e.Message);
        // a chunk that claims more bytes than the file holds
        var png = TestImages.Encode("png", Gradient(8, 8, 1), 8, 8, 1);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(33), 1 << 30);
        Assert.Contains("truncated PNG: chunk 'IDAT' at byte 33 declares 1073741824 bytes", Assert.Throws<DataException>(() => ImageDecoder.Decode(png, "big.png")).Message);
        // a zlib header asking for a preset dictionary (once an unexpected ZLibException)
        var dict = TestImages.Encode("png", Gradient(8, 8, 1), 8, 8, 1);
        dict[41] = 0x78;
        dict[42] = 0x7D;
        Assert.Contains("damaged", Assert.Throws<DataException>(() => ImageDecoder.Decode(dict, "dict.png")).Message);
    }

    /// <summary>
    /// Thousands of damaged files made from valid ones (<see cref="Fuzzer"/>'s mutations, and a JPEG
    /// start followed by garbage), seeded: each decodes or is a <see cref="DataException"/> naming
    /// the file, under a watchdog.
    /// </summary>
    [Fact]
    public void Mutated_files_never_escape_as_anything_but_a_data_exception()
    {
        byte[][] seeds =
        [
            TestImages.Encode("png", Gradient(37, 23, 3), 37, 23, 3), TestImages.Encode("png", Gradient(16, 16, 1), 16, 16, 1),
            TestImages.Encode("jpg", Gradient(37, 23, 3), 37, 23, 3), TestImages.Encode("jpg", Gradient(16, 9, 1), 16, 9, 1),
            TestImages.Encode("bmp", Gradient(13, 7, 3), 13, 7, 3), TestImages.Encode("gif", Gradient(21, 9, 1), 21, 9, 1),
        ];
        var report = Fuzzer.Run("images", Fuzzer.Cases(3000), 20261207, (i, rng) => i % 10 == 9
                ? [.. seeds[i % seeds.Length][..rng.Next(1, seeds[i % seeds.Length].Length)], .. Enumerable.Range(0, rng.Next(600)).Select(_ => (byte)rng.Next(256))]
                : Fuzzer.Mutate(seeds[i % seeds.Length], rng),
            bytes =>
            {
                var image = ImageDecoder.Decode(bytes, "m");
                Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
            },
            e => e is DataException d && d.Message.StartsWith("m: ", StringComparison.Ordinal));
        output.WriteLine(report.ToString());
        Assert.True(report.Untyped == 0 && report.Hangs == 0 && report.Loaded > 100 && report.Typed > 100, report.ToString());
    }

    [Fact]
    public void Resampling_keeps_flat_images_flat_and_averages_when_shrinking()
    {
        var flat = new DecodedImage(40, 30, 3, [.. Enumerable.Repeat((byte)77, 40 * 30 * 3)]);
        Assert.All(flat.Resized(7, 5).Pixels, v => Assert.Equal(77, v));
        Assert.All(flat.CroppedSquare(50).Pixels, v => Assert.Equal(77, v));
        // a 1-pixel checkerboard shrunk by 4 averages to mid-grey (plain bilinear sampling would alias to 0 or 255)
        var board = new DecodedImage(64, 64, 1, [.. Enumerable.Range(0, 64 * 64).Select(i => (byte)(((i % 64) + (i / 64)) % 2 * 255))]);
        Assert.All(board.Resized(16, 16).Pixels, v => Assert.InRange(v, 120, 135));
        // the central square: a 30×10 image whose middle third is white gives a white square
        var wide = new DecodedImage(30, 10, 1, [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 30 is >= 10 and < 20 ? 255 : 0))]);
        var square = wide.CroppedSquare(10);
        Assert.Equal((10, 10), (square.Width, square.Height));
        Assert.All(square.Pixels, v => Assert.Equal(255, v));
    }
}
