using System.Buffers.Binary;
using System.IO.Compression;

namespace Engine.Data;

/// <summary>
/// Checks a PNG file's structure before the decoder library allocates for it: every chunk fits in
/// the file, IHDR comes first and declares a size within the limit, and the compressed image data
/// (the IDAT chunks, one zlib stream) inflates to no more than the image can hold.
/// </summary>
/// <remarks>
/// A PNG file is the signature 89 50 4E 47 0D 0A 1A 0A and then chunks: a big-endian 32-bit data
/// length, a 4-byte type, the data, a CRC-32. IHDR's 13 bytes are width, height (big-endian 32-bit),
/// bit depth, colour type, compression, filter and interlace method. The filtered image is
/// rows of 1 filter byte + ⌈width·bits per pixel/8⌉ bytes; an Adam7-interlaced image is seven
/// such sub-images. The library would otherwise grow its buffers to whatever a chunk length or a
/// zlib stream (deflate reaches 1032:1) claims.
/// </remarks>
internal static class PngCheck
{
    public static void Validate(byte[] file, string name, long maxPixels)
    {
        long at = 8;
        long raw = -1;
        var idat = new MemoryStream();
        bool first = true;
        while (at + 8 <= file.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)at));
            string type = ChunkType(file.AsSpan((int)at + 4, 4));
            long data = at + 8;
            if (length > file.Length - data)
                throw new DataException($"{name}: truncated PNG: chunk '{type}' at byte {at} declares {length} bytes but {Math.Max(0, file.Length - data)} remain");
            if (first)
            {
                if (type != "IHDR" || length != 13) throw new DataException($"{name}: corrupt PNG: the first chunk is '{type}' ({length} bytes), not IHDR (13 bytes)");
                raw = RawSize(file.AsSpan((int)data, 13), name, maxPixels);
                first = false;
            }
            if (type == "IDAT") idat.Write(file, (int)data, (int)length);
            if (type == "IEND") break;
            at = data + length + 4;
        }
        if (first) throw new DataException($"{name}: truncated PNG: no IHDR chunk");
        if (idat.Length == 0) throw new DataException($"{name}: corrupt PNG: no image data (IDAT)");
        long limit = 2 * raw + 4096;
        idat.Position = 0;
        long inflated = 0;
        var buffer = new byte[65536];
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            for (int n; (n = z.Read(buffer)) > 0;)
                if ((inflated += n) > limit)
                    throw new DataException($"{name}: corrupt PNG: the image data inflates to more than {limit} bytes, far beyond the {raw} its size needs");
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new DataException($"{name}: corrupt PNG: the compressed image data is damaged");
        }
    }

    private static string ChunkType(ReadOnlySpan<byte> b)
    {
        Span<char> c = stackalloc char[4];
        for (int i = 0; i < 4; i++) c[i] = b[i] is >= 0x20 and < 0x7F ? (char)b[i] : '?';
        return new string(c);
    }

    /// <summary>The filtered image's size in bytes from IHDR, after checking its fields.</summary>
    private static long RawSize(ReadOnlySpan<byte> ihdr, string name, long maxPixels)
    {
        long width = BinaryPrimitives.ReadUInt32BigEndian(ihdr), height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        int depth = ihdr[8], colour = ihdr[9], interlace = ihdr[12];
        if (width == 0 || height == 0) throw new DataException($"{name}: corrupt PNG: size {width}x{height}");
        ImageDecoder.CheckSize(name, width, height, maxPixels);
        int samples = colour switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (samples == 0 || depth is not (1 or 2 or 4 or 8 or 16))
            throw new DataException($"{name}: corrupt PNG: colour type {colour} with bit depth {depth}");
        long bits = samples * depth;
        long Bytes(long w, long h) => w == 0 || h == 0 ? 0 : h * (1 + (w * bits + 7) / 8);
        if (interlace == 0) return Bytes(width, height);
        // Adam7: (column start, row start, column step, row step) of the seven passes
        ReadOnlySpan<int> passes = [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];
        long total = 0;
        for (int p = 0; p < 7; p++)
        {
            int x0 = passes[4 * p], y0 = passes[4 * p + 1], dx = passes[4 * p + 2], dy = passes[4 * p + 3];
            total += Bytes((width - x0 + dx - 1) / dx, (height - y0 + dy - 1) / dy);
        }
        return total;
    }
}
