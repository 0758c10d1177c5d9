namespace Engine.Kernels.Gpu;

// The elementwise kernels call the op structs of Engine.Kernels directly (Mul<T>, Exp<T>: generic math that ILGPU
// specialises). What stays here is what generic math cannot give a GPU kernel: conversions between element types
// (IElem: ILGPU does not compile T.CreateTruncating) and the arithmetic of the structural kernels (IArith).

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

/// <summary>Arithmetic the structural kernels (reductions, GEMM, convolution, pooling) need, per floating type.</summary>
public interface IArith<T> where T : unmanaged
{
    /// <summary>a + b</summary>
    static abstract T Add(T a, T b);
    /// <summary>a · b</summary>
    static abstract T Mul(T a, T b);
    /// <summary>a · b + c</summary>
    static abstract T MulAdd(T a, T b, T c);
    /// <summary>a − b</summary>
    static abstract T Sub(T a, T b);
    /// <summary>a / b</summary>
    static abstract T Div(T a, T b);
    /// <summary>a &gt; b</summary>
    static abstract bool Greater(T a, T b);
    /// <summary>a is NaN</summary>
    static abstract bool IsNaN(T a);
    /// <summary>eˣ</summary>
    static abstract T Exp(T a);
    /// <summary>ln x</summary>
    static abstract T Log(T a);
    /// <summary>The value of an int.</summary>
    static abstract T FromInt(int v);
    /// <summary>The value of a double.</summary>
    static abstract T FromDouble(double v);
}

/// <summary>float arithmetic.</summary>
public readonly struct AF32 : IArith<float>
{
    /// <inheritdoc/>
    public static float Add(float a, float b) => a + b;
    /// <inheritdoc/>
    public static float Mul(float a, float b) => a * b;
    /// <inheritdoc/>
    public static float MulAdd(float a, float b, float c) => a * b + c;
    /// <inheritdoc/>
    public static float Sub(float a, float b) => a - b;
    /// <inheritdoc/>
    public static float Div(float a, float b) => a / b;
    /// <inheritdoc/>
    public static bool Greater(float a, float b) => a > b;
    /// <inheritdoc/>
    public static bool IsNaN(float a) => float.IsNaN(a);
    /// <inheritdoc/>
    public static float Exp(float a) => Exp<float>.Apply(a);
    /// <inheritdoc/>
    public static float Log(float a) => Log<float>.Apply(a);
    /// <inheritdoc/>
    public static float FromInt(int v) => v;
    /// <inheritdoc/>
    public static float FromDouble(double v) => (float)v;
}

/// <summary>double arithmetic.</summary>
public readonly struct AF64 : IArith<double>
{
    /// <inheritdoc/>
    public static double Add(double a, double b) => a + b;
    /// <inheritdoc/>
    public static double Mul(double a, double b) => a * b;
    /// <inheritdoc/>
    public static double MulAdd(double a, double b, double c) => a * b + c;
    /// <inheritdoc/>
    public static double Sub(double a, double b) => a - b;
    /// <inheritdoc/>
    public static double Div(double a, double b) => a / b;
    /// <inheritdoc/>
    public static bool Greater(double a, double b) => a > b;
    /// <inheritdoc/>
    public static bool IsNaN(double a) => double.IsNaN(a);
    /// <inheritdoc/>
    public static double Exp(double a) => Exp<double>.Apply(a);
    /// <inheritdoc/>
    public static double Log(double a) => Log<double>.Apply(a);
    /// <inheritdoc/>
    public static double FromInt(int v) => v;
    /// <inheritdoc/>
    public static double FromDouble(double v) => v;
}

/// <summary>int arithmetic (reductions only).</summary>
public readonly struct AI32 : IArith<int>
{
    /// <inheritdoc/>
    public static int Add(int a, int b) => a + b;
    /// <inheritdoc/>
    public static int Mul(int a, int b) => a * b;
    /// <inheritdoc/>
    public static int MulAdd(int a, int b, int c) => a * b + c;
    /// <inheritdoc/>
    public static int Sub(int a, int b) => a - b;
    /// <inheritdoc/>
    public static int Div(int a, int b) => a / b;
    /// <inheritdoc/>
    public static bool Greater(int a, int b) => a > b;
    /// <inheritdoc/>
    public static bool IsNaN(int a) => false;
    /// <inheritdoc/>
    public static int Exp(int a) => a;
    /// <inheritdoc/>
    public static int Log(int a) => a;
    /// <inheritdoc/>
    public static int FromInt(int v) => v;
    /// <inheritdoc/>
    public static int FromDouble(double v) => (int)v;
}

/// <summary>long arithmetic (reductions only).</summary>
public readonly struct AI64 : IArith<long>
{
    /// <inheritdoc/>
    public static long Add(long a, long b) => a + b;
    /// <inheritdoc/>
    public static long Mul(long a, long b) => a * b;
    /// <inheritdoc/>
    public static long MulAdd(long a, long b, long c) => a * b + c;
    /// <inheritdoc/>
    public static long Sub(long a, long b) => a - b;
    /// <inheritdoc/>
    public static long Div(long a, long b) => a / b;
    /// <inheritdoc/>
    public static bool Greater(long a, long b) => a > b;
    /// <inheritdoc/>
    public static bool IsNaN(long a) => false;
    /// <inheritdoc/>
    public static long Exp(long a) => a;
    /// <inheritdoc/>
    public static long Log(long a) => a;
    /// <inheritdoc/>
    public static long FromInt(int v) => v;
    /// <inheritdoc/>
    public static long FromDouble(double v) => (long)v;
}
