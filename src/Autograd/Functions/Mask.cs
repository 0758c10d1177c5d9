namespace Engine.Functions;

/// <summary>Constant masks used by backward formulas (they carry no gradient themselves).</summary>
internal static class Mask
{
    /// <summary>A tensor of <paramref name="dtype"/>: <paramref name="whenTrue"/> where the condition holds, else <paramref name="whenFalse"/>.</summary>
    public static Tensor Where(Tensor condition, double whenTrue, double whenFalse, DType dtype)
    {
        using (condition)
        using (var t = Tensor.Full([], whenTrue, dtype, condition.Device))
        using (var f = Tensor.Full([], whenFalse, dtype, condition.Device))
            return Tensor.Where(condition, t, f);
    }
}
