using Microsoft.Win32.SafeHandles;

namespace Engine.Data;

/// <summary>
/// Fixed-size records of decoded pixels, written once (from several threads) and read per batch:
/// in memory, or in a temporary file (deleted when closed) when they do not fit the memory budget.
/// </summary>
internal sealed class PixelStore : IDisposable
{
    private readonly byte[]?[]? _memory;
    private readonly FileStream? _file;

    public PixelStore(int count, int recordBytes, long budget, string? directory)
    {
        RecordBytes = recordBytes;
        if ((long)count * recordBytes <= budget)
        {
            _memory = new byte[count][];
            return;
        }
        string dir = directory ?? Path.GetTempPath();
        Directory.CreateDirectory(dir);
        FilePath = Path.Combine(dir, $"engine-images-{Environment.ProcessId}-{Guid.NewGuid():N}.u8");
        _file = new FileStream(FilePath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
        _file.SetLength((long)count * recordBytes);
    }

    /// <summary>Bytes per record.</summary>
    public int RecordBytes { get; }

    /// <summary>The temporary file, when the pixels are not in memory.</summary>
    public string? FilePath { get; }

    private SafeFileHandle Handle => _file!.SafeFileHandle;

    public void Write(int index, byte[] record)
    {
        if (_memory is not null) _memory[index] = record;
        else RandomAccess.Write(Handle, record, (long)index * RecordBytes);
    }

    public void Read(int index, Span<byte> destination)
    {
        if (_memory is not null)
        {
            _memory[index].AsSpan().CopyTo(destination);
            return;
        }
        int n = RandomAccess.Read(Handle, destination[..RecordBytes], (long)index * RecordBytes);
        if (n != RecordBytes) throw new DataException($"{FilePath}: the image cache returned {n} of {RecordBytes} bytes");
    }

    public void Dispose() => _file?.Dispose();
}
