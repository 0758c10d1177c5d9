namespace Engine.Kernels;

// Comparisons: IEEE semantics, so every comparison with NaN is false except Ne.

/// <summary>The comparison primitives; each produces a Bool tensor.</summary>
public enum CompareOp
{
    /// <summary>a == b</summary>
    Eq,
    /// <summary>a != b</summary>
    Ne,
    /// <summary>a &lt; b</summary>
    Lt,
    /// <summary>a &lt;= b</summary>
    Le,
    /// <summary>a &gt; b</summary>
    Gt,
    /// <summary>a &gt;= b</summary>
    Ge,
}

/// <summary>a == b</summary>
public readonly struct EqOp : ICompareOp
{
    /// <inheritdoc/>
    public static bool Apply(float a, float b) => a == b;
    /// <inheritdoc/>
    public static bool Apply(double a, double b) => a == b;
    /// <inheritdoc/>
    public static bool Apply(int a, int b) => a == b;
    /// <inheritdoc/>
    public static bool Apply(long a, long b) => a == b;
}

/// <summary>a != b</summary>
public readonly struct NeOp : ICompareOp
{
    /// <inheritdoc/>
    public static bool Apply(float a, float b) => a != b;
    /// <inheritdoc/>
    public static bool Apply(double a, double b) => a != b;
    /// <inheritdoc/>
    public static bool Apply(int a, int b) => a != b;
    /// <inheritdoc/>
    public static bool Apply(long a, long b) => a != b;
}

/// <summary>a &lt; b</summary>
public readonly struct LtOp : ICompareOp
{
    /// <inheritdoc/>
    public static bool Apply(float a, float b) => a < b;
    /// <inheritdoc/>
    public static bool Apply(double a, double b) => a < b;
    /// <inheritdoc/>
    public static bool Apply(int a, int b) => a < b;
    /// <inheritdoc/>
    public static bool Apply(long a, long b) => a < b;
}

/// <summary>a &lt;= b</summary>
public readonly struct LeOp : ICompareOp
{
    /// <inheritdoc/>
    public static bool Apply(float a, float b) => a <= b;
    /// <inheritdoc/>
    public static bool Apply(double a, double b) => a <= b;
    /// <inheritdoc/>
    public static bool Apply(int a, int b) => a <= b;
    /// <inheritdoc/>
    public static bool Apply(long a, long b) => a <= b;
}

/// <summary>a &gt; b</summary>
public readonly struct GtOp : ICompareOp
{
    /// <inheritdoc/>
    public static bool Apply(float a, float b) => a > b;
    /// <inheritdoc/>
    public static bool Apply(double a, double b) => a > b;
    /// <inheritdoc/>
    public static bool Apply(int a, int b) => a > b;
    /// <inheritdoc/>
    public static bool Apply(long a, long b) => a > b;
}

/// <summary>a &gt;= b</summary>
public readonly struct GeOp : ICompareOp
{
    /// <inheritdoc/>
    public static bool Apply(float a, float b) => a >= b;
    /// <inheritdoc/>
    public static bool Apply(double a, double b) => a >= b;
    /// <inheritdoc/>
    public static bool Apply(int a, int b) => a >= b;
    /// <inheritdoc/>
    public static bool Apply(long a, long b) => a >= b;
}
