namespace Engine.Kernels;

/// <summary>
/// The only place where arithmetic on tensor data happens. A backend works on raw buffers seen
/// through layouts, writes into a destination the caller allocated (destination last), and knows
/// nothing of tensors or gradients. Shapes are validated above it (in <c>Tensor</c>), once, so every
/// backend reports the same errors; a backend may assume shapes agree.
/// </summary>
/// <remarks>
/// Elementwise operands arrive already broadcast: their layouts have the destination's shape,
/// with stride 0 along broadcast dimensions. Reductions receive a destination of the input's rank
/// with size 1 along the reduced axes.
/// </remarks>
public interface IBackend
{
    /// <summary>A short name for messages ("cpu").</summary>
    string Name { get; }

    /// <summary>
    /// The most bytes the memory pool should hold on this device (a GPU: 90 % of its memory), or
    /// <see cref="long.MaxValue"/> where the operating system decides (host memory).
    /// </summary>
    long MemoryBudget => long.MaxValue;

    /// <summary>Allocates an uninitialised buffer of <paramref name="bytes"/> bytes.</summary>
    DeviceBuffer Allocate(long bytes);

    /// <summary>Copies host values into the buffer starting at element <paramref name="offset"/>.</summary>
    void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged;

    /// <summary>Copies elements starting at <paramref name="offset"/> out to host memory.</summary>
    void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged;

    /// <summary>Sets every element of <paramref name="y"/> to <paramref name="value"/> converted to <paramref name="dtype"/>.</summary>
    void Fill(DType dtype, double value, in BufferView y);

    /// <summary>Strided copy with conversion: y = (yType) x, element by element; shapes are equal.</summary>
    void Copy(DType xType, in BufferView x, DType yType, in BufferView y);

    /// <summary>y = op(x).</summary>
    void Unary(UnaryOp op, DType dtype, in BufferView x, in BufferView y);

    /// <summary>y = op(a, b), operands broadcast to y's shape.</summary>
    void Binary(BinaryOp op, DType dtype, in BufferView a, in BufferView b, in BufferView y);

    /// <summary>
    /// y = α·x + β·y in place (x broadcast to y's shape): the fused update of optimizers and of
    /// gradient accumulation, one pass over y instead of a scaled temporary and an add.
    /// </summary>
    void Axpby(DType dtype, double alpha, in BufferView x, double beta, in BufferView y);

    /// <summary>y = op(a, b) as Bool, operands of <paramref name="dtype"/> broadcast to y's shape.</summary>
    void Compare(CompareOp op, DType dtype, in BufferView a, in BufferView b, in BufferView y);

    /// <summary>y = cond ? a : b, with a Bool condition, all broadcast to y's shape.</summary>
    void Where(DType dtype, in BufferView condition, in BufferView a, in BufferView b, in BufferView y);

    /// <summary>Reduces x along <paramref name="axes"/> into y (x's rank, size 1 on reduced axes).</summary>
    void Reduce(ReduceOp op, DType dtype, in BufferView x, ReadOnlySpan<int> axes, in BufferView y);

    /// <summary>Int64 index of the extreme along <paramref name="axes"/>, counted in row-major order over the reduced axes.</summary>
    void ArgReduce(ArgReduceOp op, DType dtype, in BufferView x, ReadOnlySpan<int> axes, in BufferView y);

    /// <summary>Softmax (or log-softmax) along one axis, fused and numerically stable.</summary>
    void Softmax(DType dtype, in BufferView x, int axis, bool log, in BufferView y);

    /// <summary>
    /// Batched matrix product y = op(a) · op(b), where op transposes the last two dims when its flag
    /// is set. a: [..., M, K] (or [..., K, M] when transposed), b: [..., K, N], y: [..., M, N];
    /// batch dims are already broadcast to y's (stride 0 where broadcast).
    /// </summary>
    void MatMul(DType dtype, in BufferView a, bool transposeA, in BufferView b, bool transposeB, in BufferView y);

    /// <summary>
    /// Convolution forward: y[N,K,OH,OW] = x[N,C,H,W] ⋆ w[K,C/g,R,S], then the <paramref name="epilogue"/> (bias, ReLU)
    /// on each output as it is written; contiguous operands.
    /// </summary>
    void Conv2dForward(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView w, in BufferView y, in ConvEpilogue epilogue);

    /// <summary>dx = ∂L/∂x from dy and w (dx is overwritten); contiguous operands.</summary>
    void Conv2dBackwardInput(DType dtype, Conv2dGeometry g, in BufferView dy, in BufferView w, in BufferView dx);

    /// <summary>dw = ∂L/∂w from x and dy (dw is overwritten); contiguous operands.</summary>
    void Conv2dBackwardWeight(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView dy, in BufferView dw);

    /// <summary>
    /// Max pooling; also writes the Int64 flat index (within the H×W plane) of each maximum, unless <paramref name="indices"/>
    /// is <c>default</c> (no buffer): then only the values are wanted.
    /// </summary>
    void MaxPool2dForward(DType dtype, Pool2dGeometry g, in BufferView x, in BufferView y, in BufferView indices);

    /// <summary>dx (overwritten) from dy and the indices of the forward pass.</summary>
    void MaxPool2dBackward(DType dtype, Pool2dGeometry g, in BufferView dy, in BufferView indices, in BufferView dx);

    /// <summary>Average pooling.</summary>
    void AvgPool2dForward(DType dtype, Pool2dGeometry g, in BufferView x, in BufferView y);

    /// <summary>dx (overwritten) from dy.</summary>
    void AvgPool2dBackward(DType dtype, Pool2dGeometry g, in BufferView dy, in BufferView dx);

    /// <summary>y = x selected along <paramref name="axis"/> at the (Int32 or Int64) 1-D indices.</summary>
    void IndexSelect(DType dtype, in BufferView x, int axis, DType indexType, in BufferView index, in BufferView y);

    /// <summary>y[..i..] = x[..index[..i..]..] along <paramref name="axis"/> (PyTorch's gather); y has index's shape.</summary>
    void Gather(DType dtype, in BufferView x, int axis, DType indexType, in BufferView index, in BufferView y);

    /// <summary>y[..index[..i..]..] += src[..i..] along <paramref name="axis"/>, in a fixed order.</summary>
    void ScatterAdd(DType dtype, in BufferView src, int axis, DType indexType, in BufferView index, in BufferView y);

    /// <summary>
    /// Fills a contiguous y from the counter-based generator: element i takes draw number
    /// <paramref name="offset"/> + i of stream <paramref name="seed"/>, identically on every backend.
    /// Uniform and UniformInt use [a, b); Normal uses mean a and standard deviation b.
    /// </summary>
    void Random(RandomDistribution distribution, DType dtype, ulong seed, ulong offset, double a, double b, in BufferView y);
}
