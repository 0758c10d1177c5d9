namespace Engine.Kernels.Gpu;

/// <summary>
/// The sizes of up to six dimensions, outermost first (unused leading dims are 1). Kernel
/// parameters must be plain structs, so the shape travels as fields rather than an array.
/// </summary>
public struct Shape6
{
    /// <summary>Sizes, outermost first.</summary>
    public int N0, N1, N2, N3, N4, N5;
}

/// <summary>One operand's strides (elements) over a <see cref="Shape6"/>, and its offset.</summary>
public struct Strides6
{
    /// <summary>Strides, outermost first.</summary>
    public long S0, S1, S2, S3, S4, S5;
    /// <summary>Element index of element zero.</summary>
    public long Offset;
}

/// <summary>Element offsets of a linear index, computed inside kernels.</summary>
public static class Strided
{
    /// <summary>The maximum rank of an elementwise operand after merging contiguous dims.</summary>
    public const int MaxRank = 6;

    /// <summary>The offset of row-major element <paramref name="i"/> of shape <paramref name="n"/> under strides <paramref name="s"/>.</summary>
    public static long At(long i, Shape6 n, Strides6 s)
    {
        long r = s.Offset;
        r += i % n.N5 * s.S5; i /= n.N5;
        r += i % n.N4 * s.S4; i /= n.N4;
        r += i % n.N3 * s.S3; i /= n.N3;
        r += i % n.N2 * s.S2; i /= n.N2;
        r += i % n.N1 * s.S1; i /= n.N1;
        return r + i * s.S0;
    }

    /// <summary>
    /// Merges the dims that are contiguous in every operand (and drops size-1 dims), then pads to
    /// six. Throws when more than six dims remain: a layout no elementwise kernel here can walk.
    /// </summary>
    internal static (Shape6 Shape, Strides6[] Strides) Plan(string op, int[] shape, params Layout[] layouts)
    {
        var (sizes, st) = Dims.Coalesce(shape, [.. layouts.Select(l => l.Strides)]);
        var (s6, res) = PadToSix(op, shape, sizes, st);
        for (int k = 0; k < layouts.Length; k++) res[k].Offset = layouts[k].Offset;
        return (s6, res);
    }

    /// <summary>Strides over the dims of <paramref name="shape"/> that <paramref name="select"/> keeps, merged and padded.</summary>
    internal static (Shape6 Shape, Strides6[] Strides, long Count) PlanSubset(string op, int[] shape, Func<int, bool> select, params long[][] strides)
    {
        var (sizes, st) = Dims.Coalesce(shape, strides, select);
        var (s6, res) = PadToSix(op, shape, sizes, st);
        long count = 1;
        for (int d = 0; d < shape.Length; d++) if (select(d)) count *= shape[d];
        return (s6, res, count);
    }

    /// <summary>Merged sizes and strides as six dims, size 1 and stride 0 in front; more than six is an error naming <paramref name="op"/>.</summary>
    private static (Shape6 Shape, Strides6[] Strides) PadToSix(string op, int[] shape, int[] sizes, long[][] st)
    {
        if (sizes.Length > MaxRank)
            throw new NotSupportedException($"{op}: {Errors.Shape(shape)}: {sizes.Length} non-mergeable dims; the GPU kernels take at most {MaxRank}");
        int pad = MaxRank - sizes.Length;
        int N(int d) => d < pad ? 1 : sizes[d - pad];
        var s6 = new Shape6 { N0 = N(0), N1 = N(1), N2 = N(2), N3 = N(3), N4 = N(4), N5 = N(5) };
        var res = new Strides6[st.Length];
        for (int k = 0; k < st.Length; k++)
        {
            long S(int d) => d < pad ? 0 : st[k][d - pad];
            res[k] = new Strides6 { S0 = S(0), S1 = S(1), S2 = S(2), S3 = S(3), S4 = S(4), S5 = S(5) };
        }
        return (s6, res);
    }
}
