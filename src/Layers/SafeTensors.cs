using System.Buffers.Binary;
using System.Text.Json;

namespace Engine.Layers;

/// <summary>A checkpoint file that is truncated, corrupt, or not a safetensors file.</summary>
public sealed class CheckpointException(string message) : EngineException(message);

/// <summary>
/// Reads and writes safetensors files, the checkpoint format other ecosystems read too:
/// an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
/// <c>{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}</c> (offsets into the data that
/// follows, begin inclusive, end exclusive) plus an optional <c>"__metadata__"</c> map of strings,
/// then the raw little-endian data.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeader = 100L << 20;

    private static string Code(DType t) => t switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static DType? Parse(string code) => code switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "I32" => DType.Int32,
        "I64" => DType.Int64,
        "BOOL" => DType.Bool,
        _ => null,
    };

    /// <summary>
    /// Writes the tensors (sorted by name) atomically: to a temporary file in the same folder, flushed
    /// to disk, then renamed over <paramref name="path"/>; a failure leaves any existing file untouched.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        // written field by field (no reflection: the core publishes trimmed and with NativeAOT)
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var name in names)
            {
                var t = tensors[name];
                long bytes = t.Numel * t.DType.SizeOf();
                writer.WriteStartObject(name);
                writer.WriteString("dtype", Code(t.DType));
                writer.WriteStartArray("shape");
                foreach (int d in t.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }
            writer.WriteEndObject();
        }
        var json = buffer.WrittenSpan.ToArray();
        int pad = (8 - json.Length % 8) % 8;                       // keep the data 8-byte aligned, as the reference writer does
        var headerBytes = new byte[json.Length + pad];
        json.CopyTo(headerBytes, 0);
        for (int i = json.Length; i < headerBytes.Length; i++) headerBytes[i] = (byte)' ';

        AtomicFile.Write(path, fs =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)headerBytes.Length);
            fs.Write(len);
            fs.Write(headerBytes);
            foreach (var name in names) WriteData(fs, tensors[name]);
        });
    }

    private static void WriteData(Stream s, Tensor t)
    {
        switch (t.DType)
        {
            case DType.Float32: s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<float>().AsSpan())); break;
            case DType.Float64: s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<double>().AsSpan())); break;
            case DType.Int32: s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<int>().AsSpan())); break;
            case DType.Int64: s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<long>().AsSpan())); break;
            default: s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<bool>().AsSpan())); break;
        }
    }

    /// <summary>Every tensor's name and shape, from the (checked) header alone: nothing is read or allocated.</summary>
    public static Dictionary<string, int[]> ReadShapes(string path) => ReadHeader(path).Entries.ToDictionary(e => e.Name, e => e.Shape);

    /// <summary>The metadata map of a file (empty when it has none).</summary>
    public static Dictionary<string, string> ReadMetadata(string path) => ReadHeader(path).Metadata;

    /// <summary>
    /// Reads every tensor. The header length, the JSON, every dtype, shape and offset are checked
    /// against the file's size before any tensor is allocated; problems raise
    /// <see cref="CheckpointException"/> naming the file.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var (entries, _, dataStart) = ReadHeader(path);
        var result = new Dictionary<string, Tensor>();
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                fs.Position = dataStart + e.Begin;
                var bytes = new byte[e.End - e.Begin];
                fs.ReadExactly(bytes);
                result[e.Name] = e.DType switch
                {
                    DType.Float32 => Tensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray(), e.Shape),
                    DType.Float64 => Tensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).ToArray(), e.Shape),
                    DType.Int32 => Tensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes).ToArray(), e.Shape),
                    DType.Int64 => Tensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray(), e.Shape),
                    _ => Tensor.FromArray(bytes.Select(b => b != 0).ToArray(), e.Shape),
                };
                if (e.Shape.Length == 0) result[e.Name] = Reshaped(result[e.Name]);
            }
            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new CheckpointException($"{Path.GetFileName(path)}: cannot be read ({e.Message})");
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    private static Tensor Reshaped(Tensor oneElement)
    {
        using (oneElement) return oneElement.Reshape();
    }

    private sealed record Entry(string Name, DType DType, int[] Shape, long Begin, long End);

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(string path)
    {
        string name = Path.GetFileName(path);
        CheckpointException Bad(string what) => new($"{name}: {what}");
        if (!File.Exists(path)) throw new CheckpointException($"{path}: no such checkpoint file");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw Bad($"truncated: {fileLength} bytes, too short for the 8-byte header length");
        byte[] headerBytes;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> len = stackalloc byte[8];
            fs.ReadExactly(len);
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(len);
            if (n > (ulong)Math.Min(MaxHeader, fileLength - 8))
                throw Bad($"the header length {n} exceeds the {fileLength - 8} bytes after it (truncated or not a safetensors file)");
            headerBytes = new byte[n];
            fs.ReadExactly(headerBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Bad($"cannot be read ({e.Message})");
        }
        long dataStart = 8 + headerBytes.Length, dataLength = fileLength - dataStart;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes); }
        catch (JsonException e) { throw Bad($"the header is not valid JSON ({e.Message})"); }
        using (doc)
        {
            try
            {
                return ParseHeader(doc.RootElement, dataLength, dataStart, Bad);
            }
            catch (InvalidOperationException e)
            {
                // names or strings that are not valid UTF-8 (the JSON reader checks them only when read)
                throw Bad($"the header holds text that is not valid UTF-8 ({e.Message})");
            }
        }
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ParseHeader(JsonElement root, long dataLength, long dataStart,
        Func<string, CheckpointException> bad)
    {
        if (root.ValueKind != JsonValueKind.Object) throw bad("the header is not a JSON object");
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var prop in root.EnumerateObject())
        {
            if (!names.Add(prop.Name)) throw bad($"'{prop.Name}' appears twice in the header");
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind != JsonValueKind.Object) throw bad("__metadata__ must be an object of strings");
                foreach (var m in prop.Value.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw bad($"__metadata__.{m.Name} is not a string");
                continue;
            }
            entries.Add(ParseEntry(prop, bad));
        }
        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin != expected) throw bad($"{e.Name}: data_offsets start at {e.Begin} but the previous tensor ends at {expected} (gaps and overlaps are not allowed)");
            expected = e.End;
        }
        if (expected != dataLength)
            throw bad(expected > dataLength
                ? $"truncated: the header describes {expected} bytes of data but the file holds {dataLength}"
                : $"{dataLength - expected} bytes after the last tensor's data");
        return (entries, metadata, dataStart);
    }

    private static Entry ParseEntry(JsonProperty prop, Func<string, CheckpointException> bad)
    {
        var v = prop.Value;
        string n = prop.Name;
        if (v.ValueKind != JsonValueKind.Object) throw bad($"{n}: the entry is not an object");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String || Parse(dt.GetString()!) is not { } dtype)
            throw bad($"{n}: dtype {(v.TryGetProperty("dtype", out var d) ? d.ToString() : "missing")} is not one of F32, F64, I32, I64, BOOL");
        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw bad($"{n}: shape is missing");
        var shape = new List<int>();
        foreach (var dim in sh.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long s) || s < 0 || s > int.MaxValue) throw bad($"{n}: shape {sh} has an invalid size");
            shape.Add((int)s);
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2
            || off[0].ValueKind != JsonValueKind.Number || off[1].ValueKind != JsonValueKind.Number
            || !off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw bad($"{n}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end");
        // the size in bytes, without overflow: a crafted shape may multiply past any integer
        long bytes = dtype.SizeOf();
        foreach (int d in shape)
        {
            if (d == 0) { bytes = 0; break; }
            if (bytes > long.MaxValue / d) throw bad($"{n}: shape {Errors.Shape(shape.ToArray())} holds more elements than any file can");
            bytes *= d;
        }
        if (end - begin != bytes)
            throw bad($"{n}: shape {Errors.Shape(shape.ToArray())} of {dtype.Name()} needs {bytes} bytes but data_offsets span {end - begin}");
        if (bytes > Array.MaxLength)
            throw bad($"{n}: {bytes} bytes of data is more than one tensor can be read into ({Array.MaxLength})");
        return new Entry(n, dtype, [.. shape], begin, end);
    }
}
