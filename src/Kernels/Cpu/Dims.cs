namespace Engine.Kernels;

/// <summary>Dimension bookkeeping shared by the strided kernels.</summary>
internal static class Dims
{
    /// <summary>
    /// Drops size-1 dimensions of the selected dims and merges neighbours that are contiguous in
    /// every operand (outer stride = inner stride × inner size). Order is kept, outermost first.
    /// </summary>
    public static (int[] Sizes, long[][] Strides) Coalesce(ReadOnlySpan<int> shape, long[][] strides, Func<int, bool>? select = null)
    {
        int ops = strides.Length;
        var sizes = new List<int>();
        var st = new List<long>[ops];
        for (int k = 0; k < ops; k++) st[k] = [];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (select != null && !select(d)) continue;
            int n = shape[d];
            if (n == 1) continue;
            if (sizes.Count > 0)
            {
                int inner = sizes.Count - 1;
                bool merge = true;
                for (int k = 0; k < ops && merge; k++)
                    merge = strides[k][d] == st[k][inner] * sizes[inner];
                if (merge)
                {
                    sizes[inner] *= n;
                    continue;
                }
            }
            sizes.Add(n);
            for (int k = 0; k < ops; k++) st[k].Add(strides[k][d]);
        }
        sizes.Reverse();
        var outStrides = new long[ops][];
        for (int k = 0; k < ops; k++)
        {
            st[k].Reverse();
            outStrides[k] = [.. st[k]];
        }
        return ([.. sizes], outStrides);
    }

    /// <summary>Offset of the row-major index <paramref name="i"/> within dims of the given sizes and strides.</summary>
    public static long OffsetOf(long i, int[] sizes, long[] strides, int count)
    {
        long off = 0;
        for (int d = count - 1; d >= 0; d--)
        {
            off += i % sizes[d] * strides[d];
            i /= sizes[d];
        }
        return off;
    }
}
