namespace Engine.Kernels.Gpu;

// The kernels use generic math (a + b, a > b, T.Zero, T.IsNaN, T.Exp: ILGPU specialises it per type), the elementwise
// ones through the op structs of Engine.Kernels (Mul<T>, Exp<T>). What stays here is what generic math cannot give a
// GPU kernel: conversions between element types (IElem: ILGPU does not compile T.CreateTruncating), for casts, random
// numbers and average pooling's divisor.

/// <summary>Conversions of one element type, for casts and for kernels written once over types.</summary>
public interface IElem<T> where T : unmanaged
{
    /// <summary>True for float and double.</summary>
    static abstract bool IsFloat();
    /// <summary>The value as a double (floating types).</summary>
    static abstract double ToDouble(T v);
    /// <summary>The value as a long (integer and bool types).</summary>
    static abstract long ToLong(T v);
    /// <summary>A value from a double (C# conversion semantics; bool: nonzero).</summary>
    static abstract T FromDouble(double d);
    /// <summary>A value from a long.</summary>
    static abstract T FromLong(long l);
}

/// <summary>float</summary>
public readonly struct F32 : IElem<float>
{
    /// <inheritdoc/>
    public static bool IsFloat() => true;
    /// <inheritdoc/>
    public static double ToDouble(float v) => v;
    /// <inheritdoc/>
    public static long ToLong(float v) => (long)v;
    /// <inheritdoc/>
    public static float FromDouble(double d) => (float)d;
    /// <inheritdoc/>
    public static float FromLong(long l) => l;
}

/// <summary>double</summary>
public readonly struct F64 : IElem<double>
{
    /// <inheritdoc/>
    public static bool IsFloat() => true;
    /// <inheritdoc/>
    public static double ToDouble(double v) => v;
    /// <inheritdoc/>
    public static long ToLong(double v) => (long)v;
    /// <inheritdoc/>
    public static double FromDouble(double d) => d;
    /// <inheritdoc/>
    public static double FromLong(long l) => l;
}

/// <summary>int</summary>
public readonly struct I32 : IElem<int>
{
    /// <inheritdoc/>
    public static bool IsFloat() => false;
    /// <inheritdoc/>
    public static double ToDouble(int v) => v;
    /// <inheritdoc/>
    public static long ToLong(int v) => v;
    /// <inheritdoc/>
    public static int FromDouble(double d) => (int)d;
    /// <inheritdoc/>
    public static int FromLong(long l) => (int)l;
}

/// <summary>long</summary>
public readonly struct I64 : IElem<long>
{
    /// <inheritdoc/>
    public static bool IsFloat() => false;
    /// <inheritdoc/>
    public static double ToDouble(long v) => v;
    /// <inheritdoc/>
    public static long ToLong(long v) => v;
    /// <inheritdoc/>
    public static long FromDouble(double d) => (long)d;
    /// <inheritdoc/>
    public static long FromLong(long l) => l;
}

/// <summary>bool, stored as one byte (0 or 1)</summary>
public readonly struct B8 : IElem<byte>
{
    /// <inheritdoc/>
    public static bool IsFloat() => false;
    /// <inheritdoc/>
    public static double ToDouble(byte v) => v;
    /// <inheritdoc/>
    public static long ToLong(byte v) => v;
    /// <inheritdoc/>
    public static byte FromDouble(double d) => d != 0 ? (byte)1 : (byte)0;
    /// <inheritdoc/>
    public static byte FromLong(long l) => l != 0 ? (byte)1 : (byte)0;
}
