using System.IO.Compression;

namespace Engine.Data;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST, gzipped or raw (a file starting with the gzip
/// bytes 0x1f 0x8b is decompressed on the fly).
/// </summary>
/// <remarks>
/// The format (http://yann.lecun.com/exdb/mnist/): a big-endian magic number 0x0000TTDD, where TT
/// is the element type (0x08 = unsigned byte) and DD the number of dims; then DD big-endian 32-bit
/// sizes; then the elements, row-major. Images are 0x00000803 [N, rows, cols], labels 0x00000801 [N].
/// Every header is checked before the payload is allocated: the magic, the element type, the number
/// of dims, sizes that no array can hold, and (for a raw file) that exactly the declared number of
/// bytes follows. A gzip file's size is only known once decompressed, so it is bounded first by
/// deflate's largest compression ratio (1032:1) and checked exactly while reading; the buffer grows
/// with the data that arrives (at most twice it), not to the declared size up front. Every failure is a
/// <see cref="DataException"/> whose message starts with the path: <c>PATH: what: rule</c>.
/// </remarks>
public static class IdxReader
{
    /// <summary>The magic number of an image file: unsigned bytes, 3 dims [N, rows, cols].</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic number of a label file: unsigned bytes, 1 dim [N].</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Deflate's largest ratio of decompressed to compressed size.</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>
    /// Reads an image file as a float32 tensor [N, 1, rows, cols] with values in [0, 1] (each byte
    /// divided by 255), or 0 … 255 when <paramref name="scale"/> is false. The caller owns the tensor.
    /// </summary>
    public static Tensor ReadImages(string path, bool scale = true) => ReadImageBytes(path).ToTensor(scale);

    /// <summary>Reads an image file's raw bytes and sizes.</summary>
    public static IdxImages ReadImageBytes(string path)
    {
        var (data, dims) = Read(path, ImagesMagic, "image");
        return new IdxImages(data, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads a label file as an int64 tensor [N]. The caller owns the tensor.</summary>
    public static Tensor ReadLabels(string path)
    {
        var bytes = ReadLabelBytes(path);
        var labels = new long[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) labels[i] = bytes[i];
        return Tensor.FromArray(labels);
    }

    /// <summary>Reads a label file's raw bytes, one label per byte.</summary>
    public static byte[] ReadLabelBytes(string path) => Read(path, LabelsMagic, "label").Data;

    private static string TypeName(int code) => code switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "",
    };

    private static string Describe(int[] dims) => dims.Length == 3
        ? $"{dims[0]} images of {dims[1]}x{dims[2]}"
        : $"{dims[0]} labels";

    private static (byte[] Data, int[] Dims) Read(string path, int magic, string kind)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DataException($"IdxReader: the {kind} file path is empty");
        if (Directory.Exists(path)) throw new DataException($"{path}: is a directory, not an IDX {kind} file");
        if (!File.Exists(path)) throw new DataException($"{path}: file not found");
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"{path}: cannot be opened: {e.Message}");
        }
        using (file) return Read(file, path, magic, kind);
    }

    /// <summary>
    /// Reads IDX data (raw or gzipped) from a seekable <paramref name="file"/>; <paramref name="name"/>
    /// names it in messages.
    /// </summary>
    internal static (byte[] Data, int[] Dims) Read(Stream file, string name, int magic, string kind)
    {
        long fileLength = file.Length;
        Span<byte> gzipTag = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(gzipTag, 2, throwOnEndOfStream: false) == 2 && gzipTag[0] == 0x1f && gzipTag[1] == 0x8b;
        file.Position = 0;
        using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        try
        {
            return ReadFrom(stream, name, magic, kind, gzip, fileLength);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"{name}: corrupt gzip data: {e.Message}");
        }
        catch (IOException e)
        {
            throw new DataException($"{name}: read failed: {e.Message}");
        }
    }

    private static (byte[] Data, int[] Dims) ReadFrom(Stream stream, string path, int magic, string kind, bool gzip, long fileLength)
    {
        int expectedDims = magic & 0xFF;
        string expected = $"an IDX {kind} file starts with 0x{magic:X8} (unsigned bytes, {expectedDims} dim{(expectedDims == 1 ? "" : "s")})";
        int headerLength = 4 + 4 * expectedDims;
        Span<byte> header = stackalloc byte[headerLength];
        int got = stream.ReadAtLeast(header[..4], 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataException($"{path}: truncated: {got} bytes{(gzip ? " after decompression" : "")}, but {expected}");
        int found = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header);
        int typeCode = header[2], dimCount = header[3];
        if (header[0] != 0 || header[1] != 0 || TypeName(typeCode).Length == 0)
            throw new DataException($"{path}: bad magic number 0x{found:X8}: {expected}");
        if (typeCode != 0x08)
            throw new DataException($"{path}: dtype code 0x{typeCode:X2} ({TypeName(typeCode)}) is not supported: {expected}");
        if (dimCount != expectedDims)
        {
            string hint = dimCount == 1 ? " (is this a label file?)" : dimCount == 3 ? " (is this an image file?)" : "";
            throw new DataException($"{path}: {dimCount} dims{hint}: {expected}");
        }

        got = stream.ReadAtLeast(header[4..], headerLength - 4, throwOnEndOfStream: false);
        if (got < headerLength - 4)
            throw new DataException($"{path}: truncated: the header needs {headerLength} bytes but the file holds only {4 + got}");
        var dims = new int[expectedDims];
        UInt128 payload = 1;
        for (int d = 0; d < expectedDims; d++)
        {
            uint size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[(4 + 4 * d)..]);
            if (size > int.MaxValue)
                throw new DataException($"{path}: absurd size: dim {d} of the header is {size}, above {int.MaxValue}");
            dims[d] = (int)size;
            payload *= size;
        }
        if (payload > (UInt128)Array.MaxLength)
            throw new DataException($"{path}: absurd size: header declares {Describe(dims)} ({payload} bytes), more than the {Array.MaxLength} bytes one array holds");
        long bytes = (long)payload;
        string declares = $"header declares {Describe(dims)} ({bytes} bytes)";

        if (!gzip && fileLength - headerLength < bytes)
            throw new DataException($"{path}: truncated: {declares} but only {fileLength - headerLength} bytes follow");
        if (!gzip && fileLength - headerLength > bytes)
            throw new DataException($"{path}: trailing data: {declares} but {fileLength - headerLength} bytes follow");
        if (gzip && bytes + headerLength > fileLength * MaxDeflateRatio)
            throw new DataException($"{path}: truncated: {declares} but a gzip file of {fileLength} bytes decompresses to at most {fileLength * MaxDeflateRatio}");

        // grow with what arrives, never to the declared size first: a small gzip file may declare gigabytes
        var data = new byte[Math.Min(bytes, 1L << 20)];
        long filled = 0;
        while (filled < bytes)
        {
            if (filled == data.Length) Array.Resize(ref data, (int)Math.Min(bytes, 2L * data.Length));
            int n = stream.Read(data, (int)filled, data.Length - (int)filled);
            if (n == 0) break;
            filled += n;
        }
        if (filled < bytes)
            throw new DataException($"{path}: truncated: {declares} but only {filled} bytes follow");
        if (gzip && stream.ReadByte() >= 0)
            throw new DataException($"{path}: trailing data: {declares} but more bytes follow");
        return (data, dims);
    }
}
