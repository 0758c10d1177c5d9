namespace Engine;

/// <summary>The element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float, the default for training.</summary>
    Float32,
    /// <summary>64-bit IEEE float, for reference results and gradient checks.</summary>
    Float64,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>64-bit signed integer, used for labels and indices.</summary>
    Int64,
    /// <summary>Boolean, stored as one byte (0 or 1); used for masks.</summary>
    Bool,
}

/// <summary>Facts about each <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType t) => t switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Int32 => 4,
        DType.Int64 => 8,
        DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>True for Float32 and Float64.</summary>
    public static bool IsFloating(this DType t) => t is DType.Float32 or DType.Float64;

    /// <summary>True for Int32 and Int64.</summary>
    public static bool IsInteger(this DType t) => t is DType.Int32 or DType.Int64;

    /// <summary>The dtype that stores values of the CLR type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        throw new NotSupportedException($"no tensor dtype stores {typeof(T).Name}");
    }

    /// <summary>The lower-case name PyTorch users know (<c>float32</c>, <c>int64</c>, <c>bool</c>).</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        DType.Bool => "bool",
        _ => t.ToString(),
    };
}
