using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;
using Engine.Training.TensorBoardProto;

namespace Engine.Training;

/// <summary>
/// Writes scalars to a TensorBoard event file (<c>events.out.tfevents.&lt;time&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;n&gt;</c>):
/// TFRecord framing — for each record, its length as a little-endian uint64, the masked CRC-32C of
/// those 8 bytes, the serialized <c>Event</c> protobuf, and the masked CRC-32C of the data — where
/// masked(c) = ((c &gt;&gt; 15) | (c &lt;&lt; 17)) + 0xa282ead8. The first record carries the file
/// version "brain.Event:2". Point <c>tensorboard --logdir</c> at the folder.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream _file;

    private static int s_files;

    /// <summary>Creates a new event file in <paramref name="logDir"/>.</summary>
    public TensorBoardWriter(string logDir)
    {
        Directory.CreateDirectory(logDir);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // the process id and a counter, as TensorFlow does, keep two writers of one second apart
        FilePath = Path.Combine(logDir, $"events.out.tfevents.{now}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref s_files)}");
        _file = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Write(new Event { WallTime = Now(), FileVersion = "brain.Event:2" });
    }

    /// <summary>The event file being written.</summary>
    public string FilePath { get; }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Adds scalar <paramref name="value"/> under <paramref name="tag"/> at <paramref name="step"/>.</summary>
    public void AddScalar(string tag, double value, long step)
    {
        var summary = new Summary();
        summary.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        Write(new Event { WallTime = Now(), Step = step, Summary = summary });
    }

    /// <summary>Pushes buffered records to disk.</summary>
    public void Flush() => _file.Flush(flushToDisk: true);

    private void Write(Event e)
    {
        var data = e.ToByteArray();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc32C(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(data));
        _file.Write(header);
        _file.Write(data);
        _file.Write(footer);
    }

    /// <summary>CRC-32C (Castagnoli) of <paramref name="bytes"/>, masked as TFRecord requires.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> bytes)
    {
        uint crc = Crc32C(bytes);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial and final inversion).</summary>
    public static uint Crc32C(ReadOnlySpan<byte> bytes)
    {
        uint crc = ~0u;
        foreach (byte b in bytes) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
    }
}
