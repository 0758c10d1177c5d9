using System.Buffers.Binary;
using System.IO.Compression;

namespace Engine.Tests;

/// <summary>
/// Builds IDX files byte by byte from the format's definition (big-endian magic 0x0000TTDD, DD
/// big-endian sizes, then the bytes), as another tool would write them, in a temporary folder that
/// is deleted with the instance.
/// </summary>
public sealed class IdxFiles : IDisposable
{
    public IdxFiles() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "engine-idx-" + Guid.NewGuid().ToString("N"));

    public static byte[] Header(int magic, params int[] dims)
    {
        var h = new byte[4 + 4 * dims.Length];
        BinaryPrimitives.WriteInt32BigEndian(h, magic);
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4 + 4 * d), dims[d]);
        return h;
    }

    public static byte[] Images(byte[] pixels, int count, int rows, int cols) => [.. Header(0x00000803, count, rows, cols), .. pixels];

    public static byte[] Labels(params byte[] labels) => [.. Header(0x00000801, labels.Length), .. labels];

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="name"/> in the folder and returns its path.</summary>
    public string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
