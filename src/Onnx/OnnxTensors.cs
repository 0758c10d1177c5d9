using System.Buffers.Binary;
using Engine.Onnx.Proto;

namespace Engine.Onnx;

/// <summary>TensorProto ↔ <see cref="Tensor"/>: data in <c>raw_data</c> (little-endian) or in the typed fields.</summary>
public static class OnnxTensors
{
    /// <summary>Reads a TensorProto (float, double, int32, int64, bool); <paramref name="what"/> names it in errors.</summary>
    public static Tensor ToTensor(TensorProto t, string what)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new OnnxException($"{what}: data stored in an external file is not supported");
        int[] shape = [.. t.Dims.Select(d => d is >= 0 and <= int.MaxValue ? (int)d : throw new OnnxException($"{what}: dimension {d} is out of range"))];
        long count = 1;
        foreach (int d in shape) count *= d;
        var type = (TensorProto.Types.DataType)t.DataType;
        int size = type switch
        {
            TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 => 4,
            TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 => 8,
            TensorProto.Types.DataType.Bool => 1,
            _ => throw new OnnxException($"{what}: element type {type} is not supported (float, double, int32, int64, bool are)"),
        };
        var raw = t.RawData.Span;
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
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
            {
                var v = new float[count];
                if (raw.Length > 0) for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
                else t.FloatData.CopyTo(v, 0);
                return Tensor.FromArray(v).Reshape(shape);
            }
            case TensorProto.Types.DataType.Double:
            {
                var v = new double[count];
                if (raw.Length > 0) for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]);
                else t.DoubleData.CopyTo(v, 0);
                return Tensor.FromArray(v).Reshape(shape);
            }
            case TensorProto.Types.DataType.Int64:
            {
                var v = new long[count];
                if (raw.Length > 0) for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]);
                else t.Int64Data.CopyTo(v, 0);
                return Tensor.FromArray(v).Reshape(shape);
            }
            case TensorProto.Types.DataType.Int32:
            {
                var v = new int[count];
                if (raw.Length > 0) for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]);
                else t.Int32Data.CopyTo(v, 0);
                return Tensor.FromArray(v).Reshape(shape);
            }
            default:
            {
                var v = new bool[count];
                for (int i = 0; i < count; i++) v[i] = raw.Length > 0 ? raw[i] != 0 : t.Int32Data[i] != 0;
                return Tensor.FromArray(v).Reshape(shape);
            }
        }
    }
}
