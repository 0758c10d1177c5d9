namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void MatMul(DType dtype, in BufferView a, bool transposeA, in BufferView b, bool transposeB, in BufferView y)
    {
        if (dtype == DType.Float32) MatMulT<float>(a, transposeA, b, transposeB, y);
        else if (dtype == DType.Float64) MatMulT<double>(a, transposeA, b, transposeB, y);
        else throw Unsupported("MatMul", dtype);
    }

    private static void MatMulT<T>(in BufferView a, bool ta, in BufferView b, bool tb, in BufferView y) where T : unmanaged
    {
        int r = y.Layout.Rank;
        int m = y.Shape[r - 2], n = y.Shape[r - 1];
        int k = ta ? a.Shape[r - 2] : a.Shape[r - 1];
        long rsA = a.Layout.Strides[ta ? r - 1 : r - 2], csA = a.Layout.Strides[ta ? r - 2 : r - 1];
        long rsB = b.Layout.Strides[tb ? r - 1 : r - 2], csB = b.Layout.Strides[tb ? r - 2 : r - 1];
        long rsC = y.Layout.Strides[r - 2], csC = y.Layout.Strides[r - 1];
        var batchShape = y.Shape.AsSpan(0, r - 2);
        var (sizes, st) = Dims.Coalesce(batchShape, [a.Layout.Strides[..(r - 2)], b.Layout.Strides[..(r - 2)], y.Layout.Strides[..(r - 2)]]);
        long batches = Layout.NumelOf(batchShape);
        if (batches == 0) return;
        nint pa = Addr<T>(a), pb = Addr<T>(b), py = Addr<T>(y);
        // one B for every batch (x · W with x [N, T, in]: a Linear over tokens) and the batches' rows of A and y one after
        // another: one product of batches·m rows, so B is packed once and the whole product is split over threads
        if (sizes.Length == 1 && st[1][0] == 0 && st[0][0] == m * rsA && st[2][0] == m * rsC && (long)sizes[0] * m <= int.MaxValue)
        {
            Gemm.Run(sizes[0] * m, n, k, (T*)pa, rsA, csA, (T*)pb, rsB, csB, (T*)py, rsC, csC, accumulate: false, parallel: true);
            return;
        }
        long macs = (long)m * n * k;
        // Many small products: one per thread at a time. Few large ones: each split over threads.
        bool perBatch = batches >= WorkerPool.Threads && macs < Gemm.ParallelMacs * 4;
        int parts = perBatch && macs * batches >= Gemm.ParallelMacs ? WorkerPool.Threads : 1;
        WorkerPool.Run(parts, p =>
        {
            long b0 = batches * p / parts, b1 = batches * (p + 1) / parts;
            for (long i = b0; i < b1; i++)
            {
                T* ai = (T*)pa + Dims.OffsetOf(i, sizes, st[0], sizes.Length);
                T* bi = (T*)pb + Dims.OffsetOf(i, sizes, st[1], sizes.Length);
                T* yi = (T*)py + Dims.OffsetOf(i, sizes, st[2], sizes.Length);
                Gemm.Run(m, n, k, ai, rsA, csA, bi, rsB, csB, yi, rsC, csC, accumulate: false, parallel: !perBatch);
            }
        });
    }
}
