using System.Numerics;
using Engine.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Kernels;

// Reductions, softmax, matrix products, convolution, pooling and indexing on ILGPU.
public sealed partial class IlgpuBackend
{
    // ---- reductions --------------------------------------------------------------------------

    private (Shape6 Kept, Strides6 KX, Strides6 KY, Shape6 Red, Strides6 RX, long Outputs, long Count) ReducePlan(
        string op, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
    {
        var reduced = new bool[x.Layout.Rank];
        foreach (int a in axes) reduced[a] = true;
        var (kept, ks, outputs) = Strided.PlanSubset(op, x.Shape, d => !reduced[d], x.Layout.Strides, y.Layout.Strides);
        var (red, rs, count) = Strided.PlanSubset(op, x.Shape, d => reduced[d], x.Layout.Strides);
        ks[0].Offset = x.Layout.Offset;
        ks[1].Offset = y.Layout.Offset;
        return (kept, ks[0], ks[1], red, rs[0], outputs, count);
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DType dtype, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
    {
        int code = op switch { ReduceOp.Sum => 0, ReduceOp.Max => 1, _ => 2 };
        switch (dtype)
        {
            case DType.Float32: ReduceRun<float>(x, axes, y, code, code == 0 ? 0f : code == 1 ? float.NegativeInfinity : float.PositiveInfinity); break;
            case DType.Float64: ReduceRun<double>(x, axes, y, code, code == 0 ? 0d : code == 1 ? double.NegativeInfinity : double.PositiveInfinity); break;
            case DType.Int32: ReduceRun<int>(x, axes, y, code, code == 0 ? 0 : code == 1 ? int.MinValue : int.MaxValue); break;
            case DType.Int64: ReduceRun<long>(x, axes, y, code, code == 0 ? 0L : code == 1 ? long.MinValue : long.MaxValue); break;
            default: throw Unsupported("Reduce", dtype);
        }
    }

    private void ReduceRun<T>(in BufferView x, ReadOnlySpan<int> axes, in BufferView y, int op, T identity)
        where T : unmanaged, INumber<T>
    {
        var p = ReducePlan("Reduce", x, axes, y);
        if (p.Outputs == 0) return;
        int outputs = Elements("Reduce", p.Outputs);
        LaunchGrouped<ArrayView<T>, ArrayView<T>, Shape6, Strides6, Strides6, Shape6, Strides6, long, int, T>(ReduceKernels.Reduce<T>,
            new KernelConfig(outputs, ReduceGroup), V<T>(x), V<T>(y), p.Kept, p.KX, p.KY, p.Red, p.RX, p.Count, op, identity);
    }

    /// <inheritdoc/>
    public void ArgReduce(ArgReduceOp op, DType dtype, in BufferView x, ReadOnlySpan<int> axes, in BufferView y)
    {
        int isMax = op == ArgReduceOp.ArgMax ? 1 : 0;
        switch (dtype)
        {
            case DType.Float32: ArgRun<float>(x, axes, y, isMax); break;
            case DType.Float64: ArgRun<double>(x, axes, y, isMax); break;
            case DType.Int32: ArgRun<int>(x, axes, y, isMax); break;
            case DType.Int64: ArgRun<long>(x, axes, y, isMax); break;
            default: throw Unsupported("ArgReduce", dtype);
        }
    }

    private void ArgRun<T>(in BufferView x, ReadOnlySpan<int> axes, in BufferView y, int isMax) where T : unmanaged, INumber<T>
    {
        var p = ReducePlan("ArgReduce", x, axes, y);
        if (p.Outputs == 0) return;
        LaunchGrouped<ArrayView<T>, ArrayView<long>, Shape6, Strides6, Strides6, Shape6, Strides6, long, int>(ReduceKernels.ArgReduce<T>,
            new KernelConfig(Elements("ArgReduce", p.Outputs), ReduceGroup), V<T>(x), V<long>(y), p.Kept, p.KX, p.KY, p.Red, p.RX, p.Count, isMax);
    }

    /// <inheritdoc/>
    public void Softmax(DType dtype, in BufferView x, int axis, bool log, in BufferView y)
    {
        if (dtype == DType.Float32) SoftmaxRun<float>(x, axis, log, y, float.NegativeInfinity);
        else if (dtype == DType.Float64) SoftmaxRun<double>(x, axis, log, y, double.NegativeInfinity);
        else throw Unsupported("Softmax", dtype);
    }

    private void SoftmaxRun<T>(in BufferView x, int axis, bool log, in BufferView y, T negInf) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Layout.Numel == 0) return;
        var (rows, s, count) = Strided.PlanSubset("Softmax", x.Shape, d => d != axis, x.Layout.Strides, y.Layout.Strides);
        s[0].Offset = x.Layout.Offset;
        s[1].Offset = y.Layout.Offset;
        LaunchGrouped<ArrayView<T>, ArrayView<T>, Shape6, Strides6, Strides6, int, long, long, int, T>(ReduceKernels.Softmax<T>,
            new KernelConfig(Elements("Softmax", count), ReduceGroup), V<T>(x), V<T>(y), rows, s[0], s[1],
            x.Shape[axis], x.Layout.Strides[axis], y.Layout.Strides[axis], log ? 1 : 0, negInf);
    }

    // ---- matrix products and convolution -----------------------------------------------------

    /// <summary>C = A·B per batch, with the epilogue <paramref name="flags"/> (<see cref="GemmKernels.Accumulate"/>, …) applied as C is stored; <paramref name="bias"/> is read only under <see cref="GemmKernels.AddBias"/>.</summary>
    private void GemmRun<T, LA, LB, LC>(ArrayView<T> a, LA la, ArrayView<T> b, LB lb, ArrayView<T> c, LC lc,
        int m, int n, int k, int batches, int flags, ArrayView<T> bias = default, ArrayView<T> residual = default)
        where T : unmanaged, INumber<T>
        where LA : struct, IMatrixIndex where LB : struct, IMatrixIndex where LC : struct, IMatrixIndex
    {
        if (m == 0 || n == 0 || batches == 0) return;
        int tile = 4 * GemmSide;
        var config = new KernelConfig(new Index3D((n + tile - 1) / tile, (m + tile - 1) / tile, batches), new Index3D(GemmSide, GemmSide, 1));
        LaunchGrouped<ArrayView<T>, LA, ArrayView<T>, LB, ArrayView<T>, LC, int, int, int, int, ArrayView<T>, ArrayView<T>>(GemmKernels.Gemm<T, LA, LB, LC>,
            config, a, la, b, lb, c, lc, m, n, k, flags, (flags & GemmKernels.AddBias) != 0 ? bias : c, (flags & GemmKernels.AddResidual) != 0 ? residual : c);
    }

    /// <inheritdoc/>
    public void MatMul(DType dtype, in BufferView a, bool transposeA, in BufferView b, bool transposeB, in BufferView y)
    {
        if (dtype == DType.Float32) MatMulRun<float>(a, transposeA, b, transposeB, y);
        else if (dtype == DType.Float64) MatMulRun<double>(a, transposeA, b, transposeB, y);
        else throw Unsupported("MatMul", dtype);
    }

    private void MatMulRun<T>(in BufferView a, bool ta, in BufferView b, bool tb, in BufferView y) where T : unmanaged, INumber<T>
    {
        int r = y.Layout.Rank;
        int m = y.Shape[r - 2], n = y.Shape[r - 1];
        int k = ta ? a.Shape[r - 2] : a.Shape[r - 1];
        var batchShape = y.Shape[..(r - 2)];
        var (bshape, bs, batches) = Strided.PlanSubset("MatMul", y.Shape, d => d < r - 2,
            a.Layout.Strides, b.Layout.Strides, y.Layout.Strides);
        _ = batchShape;
        long Rs(in BufferView v, bool t) => t ? v.Layout.Strides[r - 1] : v.Layout.Strides[r - 2];
        long Cs(in BufferView v, bool t) => t ? v.Layout.Strides[r - 2] : v.Layout.Strides[r - 1];
        bs[0].Offset = a.Layout.Offset;
        bs[1].Offset = b.Layout.Offset;
        bs[2].Offset = y.Layout.Offset;
        var la = new StridedMatrix { Batch = bshape, BatchStrides = bs[0], RowStride = Rs(a, ta), ColStride = Cs(a, ta) };
        var lb = new StridedMatrix { Batch = bshape, BatchStrides = bs[1], RowStride = Rs(b, tb), ColStride = Cs(b, tb) };
        var lc = new StridedMatrix { Batch = bshape, BatchStrides = bs[2], RowStride = y.Layout.Strides[r - 2], ColStride = y.Layout.Strides[r - 1] };
        if (k == 0)
        {
            Fill(DTypes.Of<T>(), 0, y);
            return;
        }
        GemmRun<T, StridedMatrix, StridedMatrix, StridedMatrix>(V<T>(a), la, V<T>(b), lb, V<T>(y), lc, m, n, k,
            Elements("MatMul", batches), flags: 0);
    }

    /// <inheritdoc/>
    /// <remarks>The implicit-GEMM kernel applies the epilogue (bias, ReLU) as it stores each output.</remarks>
    public void Conv2dForward(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView w, in BufferView y, in ConvEpilogue epilogue)
    {
        if (dtype == DType.Float32) ConvForward<float>(g, x, w, y, epilogue);
        else if (dtype == DType.Float64) ConvForward<double>(g, x, w, y, epilogue);
        else throw Unsupported("Conv2d", dtype);
    }

    private void ConvForward<T>(Conv2dGeometry g, in BufferView x, in BufferView w, in BufferView y, in ConvEpilogue epilogue)
        where T : unmanaged, INumber<T>
    {
        var s = ConvShape.Of(g);
        int crs = g.Cg * g.R * g.S, npq = Elements("Conv2d", (long)g.N * g.OH * g.OW);
        if (crs == 0)
        {
            // no taps: the output is the epilogue of zero
            Fill(DTypes.Of<T>(), 0, y);
            epilogue.ApplyAsPasses(this, DTypes.Of<T>(), g, y);
            return;
        }
        int flags = (epilogue.Bias is not null ? GemmKernels.AddBias : 0) | (epilogue.Residual is not null ? GemmKernels.AddResidual : 0)
            | (epilogue.Relu ? GemmKernels.Relu : 0);
        GemmRun<T, ConvWeights, ConvColumns, ConvOutput>(Sub<T>(w), new ConvWeights { G = s }, Sub<T>(x), new ConvColumns { G = s },
            Sub<T>(y), new ConvOutput { G = s }, g.Kg, npq, crs, g.Groups, flags, epilogue.Bias is { } b ? Sub<T>(b) : default,
            epilogue.Residual is { } r ? Sub<T>(r) : default);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardInput(DType dtype, Conv2dGeometry g, in BufferView dy, in BufferView w, in BufferView dx)
    {
        int n = Elements("Conv2dBackwardInput", (long)g.N * g.C * g.H * g.W);
        if (n == 0) return;
        var s = ConvShape.Of(g);
        if (dtype == DType.Float32)
            Launch<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvShape>(GemmKernels.ConvBackwardInput<float>, n, Sub<float>(dy), Sub<float>(w), Sub<float>(dx), s);
        else if (dtype == DType.Float64)
            Launch<ArrayView<double>, ArrayView<double>, ArrayView<double>, ConvShape>(GemmKernels.ConvBackwardInput<double>, n, Sub<double>(dy), Sub<double>(w), Sub<double>(dx), s);
        else throw Unsupported("Conv2dBackwardInput", dtype);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView dy, in BufferView dw)
    {
        if (dtype == DType.Float32) ConvBackwardWeight<float>(g, x, dy, dw);
        else if (dtype == DType.Float64) ConvBackwardWeight<double>(g, x, dy, dw);
        else throw Unsupported("Conv2dBackwardWeight", dtype);
    }

    private void ConvBackwardWeight<T>(Conv2dGeometry g, in BufferView x, in BufferView dy, in BufferView dw) where T : unmanaged, INumber<T>
    {
        var s = ConvShape.Of(g);
        int crs = g.Cg * g.R * g.S;
        long npq = (long)g.N * g.OH * g.OW;
        if (npq == 0) { Fill(DTypes.Of<T>(), 0, dw); return; }
        GemmRun<T, ConvOutput, ConvColumnsT, ConvWeights>(Sub<T>(dy), new ConvOutput { G = s }, Sub<T>(x), new ConvColumnsT { G = s },
            Sub<T>(dw), new ConvWeights { G = s }, g.Kg, crs, Elements("Conv2dBackwardWeight", npq), g.Groups, flags: 0);
    }

    /// <summary>A contiguous operand's elements from its offset on.</summary>
    private static ArrayView<T> Sub<T>(in BufferView v) where T : unmanaged => V<T>(v).SubView(v.Layout.Offset);

    // ---- pooling -----------------------------------------------------------------------------

    /// <inheritdoc/>
    public void MaxPool2dForward(DType dtype, Pool2dGeometry g, in BufferView x, in BufferView y, in BufferView indices)
    {
        int n = Elements("MaxPool2d", (long)g.N * g.C * g.OH * g.OW);
        if (n == 0) return;
        var s = PoolShape.Of(g);
        var at = indices.Buffer is null ? ArrayView<long>.Empty : Sub<long>(indices);   // empty: values only, the kernel writes no index
        if (dtype == DType.Float32)
            Launch<ArrayView<float>, ArrayView<float>, ArrayView<long>, PoolShape>(PoolIndexKernels.MaxPool<float>, n, Sub<float>(x), Sub<float>(y), at, s);
        else if (dtype == DType.Float64)
            Launch<ArrayView<double>, ArrayView<double>, ArrayView<long>, PoolShape>(PoolIndexKernels.MaxPool<double>, n, Sub<double>(x), Sub<double>(y), at, s);
        else throw Unsupported("MaxPool2d", dtype);
    }

    /// <inheritdoc/>
    public void MaxPool2dBackward(DType dtype, Pool2dGeometry g, in BufferView dy, in BufferView indices, in BufferView dx)
    {
        int n = Elements("MaxPool2dBackward", (long)g.N * g.C * g.H * g.W);
        if (n == 0) return;
        var s = PoolShape.Of(g);
        if (dtype == DType.Float32)
            Launch<ArrayView<float>, ArrayView<long>, ArrayView<float>, PoolShape>(PoolIndexKernels.MaxPoolBackward<float>, n, Sub<float>(dy), Sub<long>(indices), Sub<float>(dx), s);
        else if (dtype == DType.Float64)
            Launch<ArrayView<double>, ArrayView<long>, ArrayView<double>, PoolShape>(PoolIndexKernels.MaxPoolBackward<double>, n, Sub<double>(dy), Sub<long>(indices), Sub<double>(dx), s);
        else throw Unsupported("MaxPool2dBackward", dtype);
    }

    /// <inheritdoc/>
    public void AvgPool2dForward(DType dtype, Pool2dGeometry g, in BufferView x, in BufferView y)
    {
        int n = Elements("AvgPool2d", (long)g.N * g.C * g.OH * g.OW);
        if (n == 0) return;
        var s = PoolShape.Of(g);
        if (dtype == DType.Float32)
            Launch<ArrayView<float>, ArrayView<float>, PoolShape>(PoolIndexKernels.AvgPool<float, F32>, n, Sub<float>(x), Sub<float>(y), s);
        else if (dtype == DType.Float64)
            Launch<ArrayView<double>, ArrayView<double>, PoolShape>(PoolIndexKernels.AvgPool<double, F64>, n, Sub<double>(x), Sub<double>(y), s);
        else throw Unsupported("AvgPool2d", dtype);
    }

    /// <inheritdoc/>
    public void AvgPool2dBackward(DType dtype, Pool2dGeometry g, in BufferView dy, in BufferView dx)
    {
        int n = Elements("AvgPool2dBackward", (long)g.N * g.C * g.H * g.W);
        if (n == 0) return;
        var s = PoolShape.Of(g);
        if (dtype == DType.Float32)
            Launch<ArrayView<float>, ArrayView<float>, PoolShape>(PoolIndexKernels.AvgPoolBackward<float, F32>, n, Sub<float>(dy), Sub<float>(dx), s);
        else if (dtype == DType.Float64)
            Launch<ArrayView<double>, ArrayView<double>, PoolShape>(PoolIndexKernels.AvgPoolBackward<double, F64>, n, Sub<double>(dy), Sub<double>(dx), s);
        else throw Unsupported("AvgPool2dBackward", dtype);
    }

    // ---- indexing ----------------------------------------------------------------------------

    /// <summary>
    /// The indices as a contiguous Int64 device buffer, checked on the host first: a GPU kernel cannot
    /// throw, and the check must name the op, the shape and the bad index exactly as the CPU backend does,
    /// before anything is written.
    /// </summary>
    private IlgpuBuffer CheckedIndices(string op, in BufferView index, DType indexType, int[] shape, int axis)
    {
        long n = index.Layout.Numel;
        var buffer = (IlgpuBuffer)Allocate(Math.Max(n, 1) * sizeof(long));
        try
        {
            var dense = new BufferView(buffer, Layout.Contiguous(index.Shape));
            Copy(indexType, index, DType.Int64, dense);
            var host = new long[n];
            Download<long>(buffer, 0, host);
            foreach (long v in host)
                if ((ulong)v >= (ulong)shape[axis])
                    throw Errors.IndexError(op, shape, $"index {v} is out of range for axis {axis} of size {shape[axis]}");
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void IndexSelect(DType dtype, in BufferView x, int axis, DType indexType, in BufferView index, in BufferView y)
    {
        int count = index.Shape[0];
        if (count == 0 || y.Layout.Numel == 0) return;
        using var idx = CheckedIndices("IndexSelect", index, indexType, x.Shape, axis);
        var (other, s, _) = Strided.PlanSubset("IndexSelect", y.Shape, d => d != axis, x.Layout.Strides, y.Layout.Strides);
        s[0].Offset = x.Layout.Offset;
        s[1].Offset = y.Layout.Offset;
        int n = Elements("IndexSelect", y.Layout.Numel);
        switch (dtype.SizeOf())
        {
            case 1: IndexSelectRun<byte>(n, x, y, idx, count, other, s, axis); break;
            case 4: IndexSelectRun<int>(n, x, y, idx, count, other, s, axis); break;
            case 8: IndexSelectRun<long>(n, x, y, idx, count, other, s, axis); break;
            default: throw Unsupported("IndexSelect", dtype);
        }
        Synchronize();
    }

    private void IndexSelectRun<T>(int n, in BufferView x, in BufferView y, IlgpuBuffer idx, int count, Shape6 other, Strides6[] s, int axis)
        where T : unmanaged =>
        Launch<ArrayView<T>, ArrayView<T>, ArrayView<long>, int, Shape6, Strides6, Strides6, long, long>(PoolIndexKernels.IndexSelect,
            n, V<T>(x), V<T>(y), idx.View<long>(), count, other, s[0], s[1], x.Layout.Strides[axis], y.Layout.Strides[axis]);

    /// <inheritdoc/>
    public void Gather(DType dtype, in BufferView x, int axis, DType indexType, in BufferView index, in BufferView y)
    {
        if (index.Layout.Numel == 0) return;
        using var idx = CheckedIndices("Gather", index, indexType, x.Shape, axis);
        var xs = (long[])x.Layout.Strides.Clone();
        xs[axis] = 0;
        var (shape, s) = Strided.Plan("Gather", index.Shape, new Layout(index.Shape, xs, x.Layout.Offset), y.Layout, Layout.Contiguous(index.Shape));
        int n = Elements("Gather", index.Layout.Numel);
        switch (dtype.SizeOf())
        {
            case 1: GatherRun<byte>(n, x, y, idx, shape, s, x.Layout.Strides[axis]); break;
            case 4: GatherRun<int>(n, x, y, idx, shape, s, x.Layout.Strides[axis]); break;
            case 8: GatherRun<long>(n, x, y, idx, shape, s, x.Layout.Strides[axis]); break;
            default: throw Unsupported("Gather", dtype);
        }
        Synchronize();
    }

    private void GatherRun<T>(int n, in BufferView x, in BufferView y, IlgpuBuffer idx, Shape6 shape, Strides6[] s, long axisX) where T : unmanaged =>
        Launch<ArrayView<T>, ArrayView<T>, ArrayView<long>, Shape6, Strides6, Strides6, Strides6, long>(PoolIndexKernels.Gather,
            n, V<T>(x), V<T>(y), idx.View<long>(), shape, s[0], s[1], s[2], axisX);

    /// <inheritdoc/>
    public void ScatterAdd(DType dtype, in BufferView src, int axis, DType indexType, in BufferView index, in BufferView y)
    {
        if (index.Layout.Numel == 0) return;
        using var idx = CheckedIndices("ScatterAdd", index, indexType, y.Shape, axis);
        var dense = Layout.ContiguousStrides(index.Shape);
        var (lines, s, count) = Strided.PlanSubset("ScatterAdd", index.Shape, d => d != axis, src.Layout.Strides, y.Layout.Strides, dense);
        s[0].Offset = src.Layout.Offset;
        s[1].Offset = y.Layout.Offset;
        int n = Elements("ScatterAdd", count);
        int length = index.Shape[axis];
        switch (dtype)
        {
            case DType.Float32: ScatterRun<float>(n, src, y, idx, lines, s, length, axis, dense); break;
            case DType.Float64: ScatterRun<double>(n, src, y, idx, lines, s, length, axis, dense); break;
            case DType.Int32: ScatterRun<int>(n, src, y, idx, lines, s, length, axis, dense); break;
            case DType.Int64: ScatterRun<long>(n, src, y, idx, lines, s, length, axis, dense); break;
            default: throw Unsupported("ScatterAdd", dtype);
        }
        Synchronize();
    }

    private void ScatterRun<T>(int n, in BufferView src, in BufferView y, IlgpuBuffer idx, Shape6 lines, Strides6[] s, int length, int axis, long[] dense)
        where T : unmanaged, INumber<T> =>
        Launch<ArrayView<T>, ArrayView<T>, ArrayView<long>, Shape6, Strides6, Strides6, Strides6, int, long, long, long>(PoolIndexKernels.ScatterAdd<T>,
            n, V<T>(src), V<T>(y), idx.View<long>(), lines, s[0], s[1], s[2], length, src.Layout.Strides[axis], y.Layout.Strides[axis], dense[axis]);

    // ---- warm-up -----------------------------------------------------------------------------

    /// <summary>
    /// Compiles the kernels a float32 training step uses (elementwise add/mul/relu, sum, softmax,
    /// matmul, convolution, pooling), so the first step does not pay for compilation.
    /// </summary>
    public void WarmUp()
    {
        var a = Allocate(64 * sizeof(float));
        try
        {
            var v = new BufferView(a, Layout.Contiguous([4, 4]));
            Fill(DType.Float32, 1, v);
            Binary(BinaryOp.Add, DType.Float32, v, v, v);
            Binary(BinaryOp.Mul, DType.Float32, v, v, v);
            Unary(UnaryOp.Relu, DType.Float32, v, v);
            Reduce(ReduceOp.Sum, DType.Float32, v, [0], new BufferView(a, new Layout([1, 4], [4, 1], 16)));
            Softmax(DType.Float32, v, 1, false, v);
            MatMul(DType.Float32, v, false, v, false, new BufferView(a, Layout.Contiguous([4, 4], 16)));
            var g = new Conv2dGeometry(1, 1, 4, 4, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1);
            Conv2dForward(DType.Float32, g, v, v, new BufferView(a, Layout.Contiguous([1, 1, 4, 4], 16)), ConvEpilogue.None);
            Conv2dBackwardInput(DType.Float32, g, v, v, new BufferView(a, Layout.Contiguous([1, 1, 4, 4], 16)));
            Conv2dBackwardWeight(DType.Float32, g, v, v, new BufferView(a, Layout.Contiguous([1, 1, 1, 1], 16)));
            Synchronize();
        }
        finally { a.Dispose(); }
    }
}
