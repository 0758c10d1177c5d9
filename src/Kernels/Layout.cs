namespace Engine.Kernels;

/// <summary>
/// Where a tensor's elements sit in a buffer: its shape, the stride of each dimension
/// (in elements, not bytes; 0 for a broadcast dimension) and the offset of element zero.
/// </summary>
public readonly struct Layout
{
    /// <summary>The size of each dimension.</summary>
    public readonly int[] Shape;

    /// <summary>The distance in elements between neighbours along each dimension.</summary>
    public readonly long[] Strides;

    /// <summary>The element index of the first element within the buffer.</summary>
    public readonly long Offset;

    /// <summary>Creates a layout; the arrays are taken, not copied.</summary>
    public Layout(int[] shape, long[] strides, long offset)
    {
        if (shape.Length != strides.Length)
            throw new ArgumentException($"Layout: shape {Errors.Shape(shape)} has {shape.Length} dims but {strides.Length} strides");
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    /// <summary>A row-major contiguous layout of <paramref name="shape"/> starting at <paramref name="offset"/>.</summary>
    public static Layout Contiguous(int[] shape, long offset = 0) => new(shape, ContiguousStrides(shape), offset);

    /// <summary>Row-major strides of <paramref name="shape"/>.</summary>
    public static long[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>The number of elements (1 for rank 0, 0 when any size is 0).</summary>
    public long Numel => NumelOf(Shape);

    /// <summary>The most elements a tensor may hold: 2^60, so that its size in bytes (8 per element at most) fits a long.</summary>
    public const long MaxNumel = 1L << 60;

    /// <summary>
    /// The number of elements of <paramref name="shape"/>; a <see cref="ShapeException"/> when it is
    /// above <see cref="MaxNumel"/> (a product that would overflow, as a crafted file can declare).
    /// </summary>
    public static long NumelOf(ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
            if (d == 0) return 0;
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0 || n > MaxNumel / d) throw Errors.ShapeError("Shape", shape, $"holds more than 2^60 elements (or a negative size)");
            n *= d;
        }
        return n;
    }

    /// <summary>True when the elements are densely packed in row-major order (sizes-1 dims are ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = Shape.Length - 1; i >= 0; i--)
            {
                if (Shape[i] == 1) continue;
                if (Shape[i] == 0) return true;
                if (Strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>The same memory seen through a layout with two dimensions exchanged.</summary>
    public Layout Transpose(int d0, int d1)
    {
        var shape = (int[])Shape.Clone();
        var strides = (long[])Strides.Clone();
        (shape[d0], shape[d1]) = (shape[d1], shape[d0]);
        (strides[d0], strides[d1]) = (strides[d1], strides[d0]);
        return new Layout(shape, strides, Offset);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Errors.Shape(Shape)} strides ({string.Join(", ", Strides)}) offset {Offset}";
}

/// <summary>A buffer seen through a layout: what every <see cref="IBackend"/> primitive reads and writes.</summary>
/// <param name="Buffer">The memory.</param>
/// <param name="Layout">Which elements of it, in what shape.</param>
public readonly record struct BufferView(DeviceBuffer Buffer, Layout Layout)
{
    /// <summary>The shape of the view.</summary>
    public int[] Shape => Layout.Shape;

    /// <summary>
    /// Which contents the memory holds: the tensor layer gives each storage a fresh number when it is
    /// created and at every in-place write, never reused, so kernels may keep work derived from the
    /// contents (packed weights) while the stamp is unchanged. 0: unknown, nothing is kept.
    /// </summary>
    public long Stamp { get; init; }
}
