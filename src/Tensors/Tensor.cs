using Engine.Kernels;

namespace Engine;

/// <summary>
/// An n-dimensional array: reference-counted storage seen through a shape, strides and an offset,
/// with a <see cref="Engine.DType"/> and a <see cref="Engine.Device"/>. Views (reshape, permute,
/// slice, expand, …) share storage; every other op returns a new tensor. Tensors hold pooled
/// memory: dispose them, or create them inside <see cref="Scope"/>. No gradients live here; the
/// autograd layer builds on top.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private Storage _storage;
    private readonly int[] _shape;
    private readonly long[] _strides;
    private readonly long _offset;
    private bool _disposed;

    private Tensor(Storage storage, int[] shape, long[] strides, long offset, DType dtype)
    {
        _storage = storage;
        _shape = shape;
        _strides = strides;
        _offset = offset;
        DType = dtype;
        TensorScope.Register(this);
    }

    /// <summary>A new uninitialised contiguous tensor.</summary>
    internal static Tensor Empty(int[] shape, DType dtype, Device device)
    {
        long numel = Layout.NumelOf(shape);
        return new Tensor(new Storage(device, numel * dtype.SizeOf()), shape, Layout.ContiguousStrides(shape), 0, dtype);
    }

    /// <summary>A new handle on this tensor's storage with another layout (a view).</summary>
    private Tensor ViewAs(int[] shape, long[] strides, long offset)
    {
        _storage.AddRef();
        return new Tensor(_storage, shape, strides, offset, DType);
    }

    /// <summary>The scope that will dispose this tensor, if any.</summary>
    internal TensorScope? OwningScope { get; set; }

    /// <summary>Starts a scope that disposes the tensors created inside it; see <see cref="TensorScope"/>.</summary>
    public static TensorScope Scope() => new();

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The device holding the data.</summary>
    public Device Device => _storage.Device;

    /// <summary>The size of each dimension (printed as <c>[8, 16, 16, 16]</c>; a span wherever one is wanted).</summary>
    public Shape Shape => Shape.Wrap(_shape);

    /// <summary>The stride of each dimension, in elements.</summary>
    public ReadOnlySpan<long> Strides => _strides;

    /// <summary>The element offset of this view into its storage.</summary>
    public long Offset => _offset;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public long Numel => Layout.NumelOf(_shape);

    /// <summary>The size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => _shape[NormalizeAxis("Size", dim)];

    /// <summary>True when the elements are densely packed in row-major order.</summary>
    public bool IsContiguous => Layout.IsContiguous;

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Counts in-place writes to this tensor's memory (through any view). Autograd records it when
    /// it saves a tensor for backward, and refuses to use the tensor if it has changed since.
    /// </summary>
    public int Version => Volatile.Read(ref _storage.Version);

    private void BumpVersion() => _storage.Touch();

    internal Layout Layout => new(_shape, _strides, _offset);

    internal IBackend Backend => _storage.Backend;

    /// <summary>
    /// The buffer and layout handed to the backend; checks that the tensor is alive. The caller keeps
    /// this tensor reachable (a live local, or GC.KeepAlive) until the kernel returns: otherwise the
    /// storage's finalizer could hand the buffer to someone else mid-kernel.
    /// </summary>
    internal BufferView BufferView(string op)
    {
        if (_disposed) throw new DisposedTensorException(op);
        return new(_storage.Buffer, Layout) { Stamp = Volatile.Read(ref _storage.Stamp) };
    }

    /// <summary>True when both tensors share one storage (one is a view of the other, or both of a third).</summary>
    public bool SharesStorageWith(Tensor other) => ReferenceEquals(_storage, other._storage);

    /// <summary>
    /// True when this handle is the only tensor on its storage and sees it contiguously from the
    /// start: no view or alias can observe an in-place change to it. (Autograd adopts such fresh
    /// gradients as a leaf's <c>Grad</c> instead of copying them.)
    /// </summary>
    public bool IsSoleOwner => !_disposed && _storage.References == 1 && _offset == 0 && IsContiguous;

    /// <summary>
    /// Moves this tensor's memory to <paramref name="device"/> in place: the same object, now on the
    /// other device (what <c>Module.To</c> does to parameters and buffers, so every reference to
    /// them stays valid). Only a tensor that is the sole owner of its contiguous storage can move;
    /// a view would be left pointing at the old device.
    /// </summary>
    public Tensor MoveTo(Device device)
    {
        CheckAlive("MoveTo");
        if (device == Device) return this;
        if (!IsSoleOwner)
            throw new DeviceException($"MoveTo: {Errors.Shape(_shape)} shares its storage with other tensors (a view or a view's base); move a Clone() instead");
        var moved = To(device);
        var storage = moved._storage;
        storage.AddRef();
        moved.Dispose();
        var old = _storage;
        _storage = storage;
        old.Release();
        BumpVersion();
        return this;
    }

    /// <summary>Releases this handle's reference to the storage; the memory returns to the pool with the last one.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _storage.Release();
    }

    internal void CheckAlive(string op)
    {
        if (_disposed) throw new DisposedTensorException(op);
    }

    internal int NormalizeAxis(string op, int axis) => NormalizeAxis(op, _shape, axis);

    internal static int NormalizeAxis(string op, ReadOnlySpan<int> shape, int axis)
    {
        int rank = shape.Length;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw Errors.ShapeError(op, shape, $"axis {axis} is out of range for rank {rank}");
        return a;
    }

    /// <summary>Normalizes a set of axes (all axes when empty), sorted and without duplicates.</summary>
    internal int[] NormalizeAxes(string op, ReadOnlySpan<int> axes)
    {
        if (axes.IsEmpty) return [.. Enumerable.Range(0, Rank)];
        var result = new SortedSet<int>();
        foreach (int a in axes)
            if (!result.Add(NormalizeAxis(op, a)))
                throw Errors.ShapeError(op, _shape, $"axis {a} is given twice");
        return [.. result];
    }
}
