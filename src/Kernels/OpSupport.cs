namespace Engine.Kernels;

/// <summary>
/// Which dtypes each primitive accepts, read from the op tables (<see cref="UnaryOps"/>, <see cref="BinaryOps"/>,
/// <see cref="CompareOps"/>) whose entries follow from each op's generic constraint. Every backend runs through
/// those tables, and the tensor layer checks this before calling a backend, so an unsupported dtype gets the same
/// message everywhere.
/// </summary>
public static class OpSupport
{
    /// <summary>Whether unary <paramref name="op"/> takes dtype <paramref name="t"/>.</summary>
    public static bool Supports(UnaryOp op, DType t) => UnaryOps.Run(op, t, default(NoRun));

    /// <summary>Whether binary <paramref name="op"/> takes dtype <paramref name="t"/>.</summary>
    public static bool Supports(BinaryOp op, DType t) => BinaryOps.Run(op, t, default(NoRun));

    /// <summary>Whether comparison <paramref name="op"/> takes dtype <paramref name="t"/> (every dtype; Bool only for equality).</summary>
    public static bool Supports(CompareOp op, DType t) => CompareOps.Run(op, t, default(NoRun));

    /// <summary>Reductions take every numeric dtype (not Bool).</summary>
    public static bool Supports(ReduceOp op, DType t) => t != DType.Bool;

    /// <summary>The dtypes the named op accepts, for error messages.</summary>
    public static string Describe(Func<DType, bool> accepts) =>
        string.Join(", ", Enum.GetValues<DType>().Where(accepts).Select(d => d.Name()));
}
