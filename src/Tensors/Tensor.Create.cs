using System.Runtime.InteropServices;
using Engine.Kernels;

namespace Engine;

public sealed partial class Tensor
{
    private static int[] CheckShape(string op, int[] shape)
    {
        foreach (int d in shape)
            if (d < 0) throw Errors.ShapeError(op, shape, "sizes must be non-negative");
        return (int[])shape.Clone();
    }

    /// <summary>An uninitialised tensor (contents are whatever the pooled buffer held).</summary>
    public static Tensor Empty(int[] shape, DType dtype = DType.Float32, Device? device = null) =>
        Empty(CheckShape("Empty", shape), dtype, device ?? Device.Current);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        var t = Empty(CheckShape("Full", shape), dtype, device ?? Device.Current);
        if (t.Numel > 0) t.Backend.Fill(dtype, value, t.BufferView("Full"));
        return t;
    }

    /// <summary>Zeros of float32.</summary>
    public static Tensor Zeros(params int[] shape) => Full(shape, 0);

    /// <summary>Zeros.</summary>
    public static Tensor Zeros(int[] shape, DType dtype, Device? device = null) => Full(shape, 0, dtype, device);

    /// <summary>Ones of float32.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1);

    /// <summary>Ones.</summary>
    public static Tensor Ones(int[] shape, DType dtype, Device? device = null) => Full(shape, 1, dtype, device);

    /// <summary>Zeros with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Full(like._shape, 0, like.DType, like.Device);

    /// <summary>Ones with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Full(like._shape, 1, like.DType, like.Device);

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null) => Full([], value, dtype, device);

    /// <summary>The values start, start + step, … below end (above end for a negative step).</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32, Device? device = null)
    {
        if (step == 0 || double.IsNaN(step) || double.IsNaN(start) || double.IsNaN(end))
            throw new ShapeException($"Arange: start {start}, end {end}, step {step}: step must be non-zero and all finite");
        long n = Math.Max(0, (long)Math.Ceiling((end - start) / step));
        if (n > int.MaxValue) throw new ShapeException($"Arange: start {start}, end {end}, step {step}: {n} elements is too many");
        var values = new double[n];
        for (long i = 0; i < n; i++) values[i] = start + i * step;
        return FromValues(values, [(int)n], dtype, device ?? Device.Current);
    }

    /// <summary>The integers 0 … end-1 as int64 (PyTorch's <c>arange(end)</c>).</summary>
    public static Tensor Arange(int end) => Arange(0, end, 1, DType.Int64);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive.</summary>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32, Device? device = null)
    {
        if (steps < 0) throw new ShapeException($"Linspace: steps {steps} must be non-negative");
        var values = new double[steps];
        for (int i = 0; i < steps; i++)
            values[i] = steps == 1 ? start : i < steps / 2 ? start + (end - start) * i / (steps - 1) : end - (end - start) * (steps - 1 - i) / (steps - 1);
        return FromValues(values, [steps], dtype, device ?? Device.Current);
    }

    /// <summary>An n×m matrix with ones on the diagonal (m defaults to n).</summary>
    public static Tensor Eye(int n, int? m = null, DType dtype = DType.Float32, Device? device = null)
    {
        int cols = m ?? n;
        var shape = CheckShape("Eye", [n, cols]);
        var values = new double[(long)n * cols];
        for (int i = 0; i < Math.Min(n, cols); i++) values[(long)i * cols + i] = 1;
        return FromValues(values, shape, dtype, device ?? Device.Current);
    }

    private static Tensor FromValues(double[] values, int[] shape, DType dtype, Device device)
    {
        using var d = FromSpan<double>(values, shape, device);
        return d.To(dtype);
    }

    /// <summary>A one-dimensional tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray<T>(T[] data) where T : unmanaged => FromArray(data, [data.Length]);

    /// <summary>A tensor of <paramref name="shape"/> holding a copy of <paramref name="data"/> in row-major order.</summary>
    /// <remarks>An empty shape makes a 0-d tensor (shape [], one element), as <c>torch.tensor(5.0)</c>; it needs an array of exactly one value.</remarks>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged
    {
        shape = CheckShape("FromArray", shape);
        if (shape.Length == 0 && data.Length != 1)
            throw Errors.ShapeError("FromArray", shape,
                $"an empty shape makes a 0-d tensor of one value but the array holds {data.Length}; pass no shape for a 1-D tensor of shape [{data.Length}]");
        if (Layout.NumelOf(shape) != data.Length)
            throw Errors.ShapeError("FromArray", shape, $"needs {Layout.NumelOf(shape)} values but the array holds {data.Length}");
        return FromSpan<T>(data, shape, Device.Current);
    }

    /// <summary>A tensor copying a rectangular array of any rank (float[,], long[,,], bool[], …); the shape is the array's.</summary>
    public static Tensor FromArray(Array data)
    {
        var shape = new int[data.Rank];
        for (int d = 0; d < data.Rank; d++) shape[d] = data.GetLength(d);
        return data switch
        {
            _ when data.GetType().GetElementType() == typeof(float) => FromFlat<float>(data, shape),
            _ when data.GetType().GetElementType() == typeof(double) => FromFlat<double>(data, shape),
            _ when data.GetType().GetElementType() == typeof(int) => FromFlat<int>(data, shape),
            _ when data.GetType().GetElementType() == typeof(long) => FromFlat<long>(data, shape),
            _ when data.GetType().GetElementType() == typeof(bool) => FromFlat<bool>(data, shape),
            _ => throw new DTypeException($"FromArray: element type {data.GetType().GetElementType()?.Name} has no tensor dtype; use float, double, int, long or bool"),
        };
    }

    private static Tensor FromFlat<T>(Array data, int[] shape) where T : unmanaged
    {
        var flat = new T[data.Length];
        int i = 0;
        foreach (T v in data) flat[i++] = v;
        return FromSpan<T>(flat, shape, Device.Current);
    }

    private static Tensor FromSpan<T>(ReadOnlySpan<T> data, int[] shape, Device device) where T : unmanaged
    {
        var dtype = DTypes.Of<T>();
        var t = Empty(shape, dtype, device);
        if (typeof(T) == typeof(bool))
        {
            var bytes = MemoryMarshal.Cast<T, byte>(data).ToArray();
            for (int i = 0; i < bytes.Length; i++) bytes[i] = bytes[i] != 0 ? (byte)1 : (byte)0;
            t.Backend.Upload<byte>(bytes, t._storage.Buffer, 0);
        }
        else t.Backend.Upload(data, t._storage.Buffer, 0);
        return t;
    }

    /// <summary>The elements in row-major order; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckAlive("ToArray");
        if (DTypes.Of<T>() != DType)
            throw Errors.DTypeError("ToArray", $"the tensor's dtype is {DType.Name()} but {typeof(T).Name}[] holds {DTypes.Of<T>().Name()}");
        using var c = Contiguous();
        var result = new T[c.Numel];
        if (result.Length == 0) return result;
        if (typeof(T) == typeof(bool))
            c.Backend.Download(c._storage.Buffer, c._offset, MemoryMarshal.Cast<T, byte>(result.AsSpan()));
        else
            c.Backend.Download(c._storage.Buffer, c._offset, result.AsSpan());
        return result;
    }

    /// <summary>The single element of a one-element tensor, converted to <typeparamref name="T"/>.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Numel != 1) throw Errors.ShapeError("Item", _shape, "only a one-element tensor has an item");
        using var c = To(DTypes.Of<T>());
        return c.ToArray<T>()[0];
    }

    /// <summary>Reads one element as a double (negative indices count from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public double this[params int[] index] => ElementAt(index);

    private double ElementAt(int[] index)
    {
        CheckAlive("Indexer");
        if (index.Length != Rank)
            throw Errors.ShapeError("Indexer", _shape, $"{index.Length} indices given for rank {Rank}");
        long off = _offset;
        for (int d = 0; d < Rank; d++)
        {
            int i = index[d] < 0 ? index[d] + _shape[d] : index[d];
            if (i < 0 || i >= _shape[d])
                throw Errors.IndexError("Indexer", _shape, $"index {index[d]} is out of range for axis {d} of size {_shape[d]}");
            off += i * _strides[d];
        }
        var buf = _storage.Buffer;
        double value;
        switch (DType)
        {
            case DType.Float32: { Span<float> v = stackalloc float[1]; Backend.Download(buf, off, v); value = v[0]; break; }
            case DType.Float64: { Span<double> v = stackalloc double[1]; Backend.Download(buf, off, v); value = v[0]; break; }
            case DType.Int32: { Span<int> v = stackalloc int[1]; Backend.Download(buf, off, v); value = v[0]; break; }
            case DType.Int64: { Span<long> v = stackalloc long[1]; Backend.Download(buf, off, v); value = v[0]; break; }
            default: { Span<byte> v = stackalloc byte[1]; Backend.Download(buf, off, v); value = v[0]; break; }
        }
        GC.KeepAlive(this);
        return value;
    }

    /// <summary>A copy converted to <paramref name="dtype"/> (a new handle, also when the dtype already matches).</summary>
    public Tensor To(DType dtype)
    {
        var y = Empty(_shape, dtype, Device);
        if (Numel > 0) Backend.Copy(DType, BufferView("To"), dtype, y.BufferView("To"));
        GC.KeepAlive(this);
        return y;
    }

    /// <summary>A copy on <paramref name="device"/>.</summary>
    public Tensor To(Device device)
    {
        CheckAlive("To");
        if (device == Device) return Clone();
        try { device.CheckAvailable(); }
        catch (DeviceException e) { throw new DeviceException("To: " + e.Message); }
        // through host memory: a contiguous copy here, its bytes down, then up to the other device
        using var dense = Clone();
        var bytes = new byte[Numel * DType.SizeOf()];
        dense.Backend.Download<byte>(dense._storage.Buffer, 0, bytes);
        var y = Empty(_shape, DType, device);
        y.Backend.Upload<byte>(bytes, y._storage.Buffer, 0);
        GC.KeepAlive(this);
        return y;
    }

    /// <summary>A contiguous copy with its own storage.</summary>
    public Tensor Clone() => To(DType);
}
