namespace Engine.Kernels;

/// <summary>
/// Which dtypes each primitive accepts. Every backend implements exactly this table, and the
/// tensor layer checks it before calling a backend, so an unsupported dtype gets the same
/// message everywhere.
/// </summary>
public static class OpSupport
{
    /// <summary>Unary ops defined on integers as well as floats.</summary>
    public static bool Supports(UnaryOp op, DType t) => t.IsFloating() ||
        (t.IsInteger() && op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Sign or UnaryOp.Square);

    /// <summary>Binary ops defined on integers as well as floats.</summary>
    public static bool Supports(BinaryOp op, DType t) => t.IsFloating() ||
        (t.IsInteger() && op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Max or BinaryOp.Min);

    /// <summary>Comparisons take every dtype; Bool only for equality.</summary>
    public static bool Supports(CompareOp op, DType t) => t != DType.Bool || op is CompareOp.Eq or CompareOp.Ne;

    /// <summary>Reductions take every numeric dtype (not Bool).</summary>
    public static bool Supports(ReduceOp op, DType t) => t != DType.Bool;

    /// <summary>The dtypes the named op accepts, for error messages.</summary>
    public static string Describe(Func<DType, bool> accepts) =>
        string.Join(", ", Enum.GetValues<DType>().Where(accepts).Select(d => d.Name()));
}
