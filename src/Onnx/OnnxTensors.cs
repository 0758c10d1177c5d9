using System.Runtime.InteropServices;
using Engine.Onnx.Proto;

namespace Engine.Onnx;

/// <summary>TensorProto ↔ <see cref="Tensor"/>: data in <c>raw_data</c> (little-endian) or in the typed fields.</summary>
public static class OnnxTensors
{
    /// <summary>
    /// Reads a TensorProto (float, double, int32, int64, bool; float16 and bfloat16 are read as float32);
    /// <paramref name="what"/> names it in errors. Data stored in an external file is read from
    /// <paramref name="directory"/> (the model's folder), which the file's location must not leave.
    /// </summary>
    public static Tensor ToTensor(TensorProto t, string what, string? directory = null)
    {
        int[] shape = [.. t.Dims.Select(d => d is >= 0 and <= int.MaxValue ? (int)d : throw new OnnxException($"{what}: dimension {d} is out of range"))];
        long count = 1;
        foreach (int d in shape)
        {
            // both factors are at most 2³¹ − 1: the product cannot overflow before it is checked
            count *= d;
            if (count > int.MaxValue)
                throw new OnnxException($"{what}: dims {Errors.Shape(shape)} describe more elements than a tensor stored in an ONNX file can hold (2^31 − 1)");
        }
        var type = (TensorProto.Types.DataType)t.DataType;
        int size = type switch
        {
            TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 => 4,
            TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 => 8,
            TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 => 2,
            TensorProto.Types.DataType.Bool => 1,
            _ => throw new OnnxException($"{what}: element type {type} is not supported (float, double, int32, int64, bool, and float16 and bfloat16 read as float are)"),
        };
        ReadOnlySpan<byte> raw = t.DataLocation == TensorProto.Types.DataLocation.External
            ? ReadExternal(t, what, directory, count * size)
            : t.RawData.Span;
        if (raw.Length > 0 && raw.Length != count * size)
            throw new OnnxException($"{what}: raw_data holds {raw.Length} bytes but dims {Errors.Shape(shape)} of {type} need {count * size}");
        long typed = type switch
        {
            TensorProto.Types.DataType.Float => t.FloatData.Count,
            TensorProto.Types.DataType.Double => t.DoubleData.Count,
            TensorProto.Types.DataType.Int64 => t.Int64Data.Count,
            _ => t.Int32Data.Count,
        };
        if (raw.Length == 0 && typed != count)
            throw new OnnxException($"{what}: holds {typed} values but dims {Errors.Shape(shape)} need {count}");
        if (type is TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16)
        {
            // 16-bit floats (in raw_data, or one per int32_data entry) widened to float32
            var v = new float[count];
            bool brain = type == TensorProto.Types.DataType.Bfloat16;
            for (int i = 0; i < count; i++)
            {
                ushort bits = raw.Length > 0 ? (ushort)(raw[2 * i] | raw[2 * i + 1] << 8) : unchecked((ushort)t.Int32Data[i]);
                v[i] = brain ? BitConverter.Int32BitsToSingle(bits << 16) : (float)BitConverter.UInt16BitsToHalf(bits);
            }
            return Tensor.FromArray(v).Reshape(shape);
        }
        switch (type)
        {
            case TensorProto.Types.DataType.Float: return Tensor.FromArray(Values(raw, t.FloatData, count)).Reshape(shape);
            case TensorProto.Types.DataType.Double: return Tensor.FromArray(Values(raw, t.DoubleData, count)).Reshape(shape);
            case TensorProto.Types.DataType.Int64: return Tensor.FromArray(Values(raw, t.Int64Data, count)).Reshape(shape);
            case TensorProto.Types.DataType.Int32: return Tensor.FromArray(Values(raw, t.Int32Data, count)).Reshape(shape);
            default:
            {
                var v = new bool[count];
                for (int i = 0; i < count; i++) v[i] = raw.Length > 0 ? raw[i] != 0 : t.Int32Data[i] != 0;
                return Tensor.FromArray(v).Reshape(shape);
            }
        }
    }

    /// <summary>The engine's type for an ONNX element type (float16 and bfloat16 are computed as float32), or null where it has none.</summary>
    internal static DType? EngineType(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 => DType.Float32,
        TensorProto.Types.DataType.Double => DType.Float64,
        TensorProto.Types.DataType.Int32 => DType.Int32,
        TensorProto.Types.DataType.Int64 => DType.Int64,
        TensorProto.Types.DataType.Bool => DType.Bool,
        _ => null,
    };

    /// <summary>The element type a type attribute names: a number from opset 6 (Cast's <c>to</c>), a name such as "FLOAT" before.</summary>
    internal static TensorProto.Types.DataType TypeOf(AttributeProto a) => a.Type == AttributeProto.Types.AttributeType.String
        ? Enum.TryParse<TensorProto.Types.DataType>(a.S.ToStringUtf8(), ignoreCase: true, out var parsed) ? parsed : TensorProto.Types.DataType.Undefined
        : (TensorProto.Types.DataType)a.I;

    /// <summary>The most bytes one externally stored tensor may have (a .NET array's limit).</summary>
    private const long MaxExternalBytes = int.MaxValue;

    /// <summary>
    /// An external tensor's bytes: <c>location</c> (relative to the model's folder, inside it), <c>offset</c> and
    /// <c>length</c> (both optional) from its <c>external_data</c> entries, checked against the file before reading.
    /// </summary>
    private static byte[] ReadExternal(TensorProto t, string what, string? directory, long needed)
    {
        if (directory is null) throw new OnnxException($"{what}: data stored in an external file is only read for a model loaded from a file");
        var entries = t.ExternalData.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        if (!entries.TryGetValue("location", out var location) || location.Length == 0)
            throw new OnnxException($"{what}: external data without a location");
        long Number(string key)
        {
            if (!entries.TryGetValue(key, out var v)) return -1;
            return long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
                ? n : throw new OnnxException($"{what}: external data {key} '{v}' is not a non-negative integer");
        }
        long offset = Math.Max(Number("offset"), 0), length = Number("length");
        if (location.IndexOfAny([.. Path.GetInvalidPathChars(), '\0']) >= 0)
            throw new OnnxException($"{what}: external data location '{location.Replace("\0", "\\0")}' is not a file name");
        string root = Path.GetFullPath(directory);
        string path = Path.GetFullPath(Path.Combine(root, location));
        if (Path.IsPathRooted(location) || !path.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new OnnxException($"{what}: external data location '{location}' leaves the model's folder");
        if (!File.Exists(path)) throw new OnnxException($"{what}: external data file '{location}' does not exist beside the model");
        if (length < 0) length = needed;
        if (length != needed) throw new OnnxException($"{what}: external data length {length} but the dims need {needed} bytes");
        if (length > MaxExternalBytes) throw new OnnxException($"{what}: {length} bytes of external data in one tensor are not supported (at most {MaxExternalBytes})");
        using var file = File.OpenRead(path);
        if (offset > file.Length || length > file.Length - offset)
            throw new OnnxException($"{what}: external data at offset {offset}, {length} bytes, lies past the end of '{location}' ({file.Length} bytes)");
        var bytes = new byte[length];
        file.Seek(offset, SeekOrigin.Begin);
        file.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A TensorProto named <paramref name="name"/> holding a copy of <paramref name="t"/> in raw_data (float, double, int32, int64, bool).</summary>
    public static TensorProto FromTensor(Tensor t, string name)
    {
        using var cpu = t.To(Device.Cpu);
        var (type, bytes) = t.DType switch
        {
            DType.Float32 => (TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes<float>(cpu.ToArray<float>()).ToArray()),
            DType.Float64 => (TensorProto.Types.DataType.Double, MemoryMarshal.AsBytes<double>(cpu.ToArray<double>()).ToArray()),
            DType.Int32 => (TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes<int>(cpu.ToArray<int>()).ToArray()),
            DType.Int64 => (TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes<long>(cpu.ToArray<long>()).ToArray()),
            _ => (TensorProto.Types.DataType.Bool, Array.ConvertAll(cpu.ToArray<bool>(), b => b ? (byte)1 : (byte)0)),
        };
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("writing ONNX raw_data needs a little-endian machine");
        var p = new TensorProto { Name = name, DataType = (int)type, RawData = Google.Protobuf.ByteString.CopyFrom(bytes) };
        p.Dims.AddRange(t.Shape.ToArray().Select(d => (long)d));
        return p;
    }

    /// <summary>The <paramref name="count"/> values from raw_data (little-endian, as ONNX stores it) or else from the typed field.</summary>
    private static T[] Values<T>(ReadOnlySpan<byte> raw, IList<T> typed, long count) where T : unmanaged
    {
        var v = new T[count];
        if (raw.Length == 0) typed.CopyTo(v, 0);
        else if (BitConverter.IsLittleEndian) raw.CopyTo(MemoryMarshal.AsBytes(v.AsSpan()));
        else throw new PlatformNotSupportedException("reading ONNX raw_data needs a little-endian machine");
        return v;
    }
}
