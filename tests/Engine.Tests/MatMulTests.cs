using Engine.Kernels;

namespace Engine.Tests;

/// <summary>Matrix products against a triple loop in float64.</summary>
public abstract class MatMulTests
{
    public static TheoryData<DType> FloatTypes() => [DType.Float32, DType.Float64];

    internal static RefArray RefMatMul(RefArray a, RefArray b, bool ta = false, bool tb = false)
    {
        int ra = a.Rank, rb = b.Rank;
        int m = ta ? a.Shape[ra - 1] : a.Shape[ra - 2], k = ta ? a.Shape[ra - 2] : a.Shape[ra - 1];
        int n = tb ? b.Shape[rb - 2] : b.Shape[rb - 1];
        var batch = RefArray.Broadcast(a.Shape[..^2], b.Shape[..^2]);
        int[] outShape = [.. batch, m, n];
        var y = RefArray.Zeros(outShape);
        long batches = RefArray.Numel(batch), aMat = (long)a.Shape[^2] * a.Shape[^1], bMat = (long)b.Shape[^2] * b.Shape[^1];
        // element (i, p) of op(A) sits at i·ai + p·ap within its matrix; likewise (p, j) of op(B)
        long ai = ta ? 1 : k, ap = ta ? m : 1, bp = tb ? 1 : n, bj = tb ? k : 1;
        for (long t = 0; t < batches; t++)
        {
            var idx = RefArray.Unravel(t, batch);
            long aBase = BatchOffset(idx, a.Shape[..^2]) * aMat, bBase = BatchOffset(idx, b.Shape[..^2]) * bMat;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a.Data[aBase + i * ai + p * ap] * b.Data[bBase + p * bp + j * bj];
                    y.Data[(t * m + i) * n + j] = s;
                }
        }
        return y;
    }

    /// <summary>The flat batch index of a broadcast operand (size-1 dims repeat) for an output batch index.</summary>
    private static long BatchOffset(int[] idx, int[] shape)
    {
        long off = 0;
        int lead = idx.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++) off = off * shape[d] + (shape[d] == 1 ? 0 : idx[lead + d]);
        return off;
    }

    private static void CheckProduct(RefArray expected, Tensor actual, int k, string what)
    {
        // rounding grows with the inner size; inputs are in [-1, 1]
        double tol = actual.DType == DType.Float32 ? 2e-6 * Math.Max(k, 1) : 1e-13 * Math.Max(k, 1);
        Check.Equal(expected, actual, 0, tol, what);
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Matrix_products_of_many_sizes(DType dtype)
    {
        var rng = new Random(11);
        using var scope = Tensor.Scope();
        int[] sizes = [1, 2, 5, 6, 7, 13, 16, 17, 33, 64, 65];
        for (int trial = 0; trial < 24; trial++)
        {
            int m = sizes[rng.Next(sizes.Length)], k = sizes[rng.Next(sizes.Length)], n = sizes[rng.Next(sizes.Length)];
            var a = Data.Uniform(rng, [m, k], -1, 1, dtype);
            var b = Data.Uniform(rng, [k, n], -1, 1, dtype);
            CheckProduct(RefMatMul(RefArray.Of(a), RefArray.Of(b)), a.MatMul(b), k, $"{m}x{k}x{n}");
        }
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Large_products_split_across_threads(DType dtype)
    {
        var rng = new Random(12);
        using var scope = Tensor.Scope();
        var a = Data.Uniform(rng, [150, 300], -1, 1, dtype);
        var b = Data.Uniform(rng, [300, 211], -1, 1, dtype);
        CheckProduct(RefMatMul(RefArray.Of(a), RefArray.Of(b)), a.MatMul(b), 300, "150x300x211");
        var c = Data.Uniform(rng, [300, 1100], -1, 1, dtype);     // K spans several KC blocks
        var d = Data.Uniform(rng, [1100, 40], -1, 1, dtype);
        CheckProduct(RefMatMul(RefArray.Of(c), RefArray.Of(d)), c.MatMul(d), 1100, "300x1100x40");
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Transpose_flags_and_transposed_views(DType dtype)
    {
        var rng = new Random(13);
        using var scope = Tensor.Scope();
        var a = Data.Uniform(rng, [9, 7], -1, 1, dtype);    // used as aᵀ: 7x9
        var b = Data.Uniform(rng, [11, 9], -1, 1, dtype);   // used as bᵀ: 9x11
        var ra = RefArray.Of(a);
        var rb = RefArray.Of(b);
        var expected = RefMatMul(ra, rb, ta: true, tb: true);
        CheckProduct(expected, a.MatMul(b, transposeA: true, transposeB: true), 9, "flags");
        CheckProduct(expected, a.T.MatMul(b.T), 9, "views");
        CheckProduct(RefMatMul(ra, RefArray.Of(a), ta: true), a.MatMul(a, transposeA: true), 9, "aᵀa");
        var strided = Data.NonContiguous(rng, [7, 9], -1, 1, dtype, 1);
        CheckProduct(RefMatMul(RefArray.Of(strided), rb, tb: true), strided.MatMul(b, transposeB: true), 9, "strided columns");
    }

    [Theory, MemberData(nameof(FloatTypes))]
    public void Batched_products_broadcast_batch_dims(DType dtype)
    {
        var rng = new Random(14);
        using var scope = Tensor.Scope();
        foreach (var (sa, sb) in new[] { (new[] { 2, 1, 5, 4 }, new[] { 3, 4, 6 }), ([4, 5, 4], [4, 3]), ([5, 4], [2, 4, 3]), ([6, 3, 8, 9], [6, 3, 9, 2]) })
        {
            var a = Data.Uniform(rng, sa, -1, 1, dtype);
            var b = Data.Uniform(rng, sb, -1, 1, dtype);
            CheckProduct(RefMatMul(RefArray.Of(a), RefArray.Of(b)), a.MatMul(b), sa[^1], $"{Errors.Shape(sa)} x {Errors.Shape(sb)}");
        }
        var many = Data.Uniform(rng, [64, 20, 30], -1, 1, dtype);   // many small products: one per thread
        var w = Data.Uniform(rng, [30, 25], -1, 1, dtype);
        CheckProduct(RefMatMul(RefArray.Of(many), RefArray.Of(w)), many.MatMul(w), 30, "many small");
        // a Linear over tokens, x [N, T, in] · Wᵀ: one B for every batch, the batches' rows one product (split over threads)
        var tokens = Data.Uniform(rng, [8, 96, 64], -1, 1, dtype);
        var weight = Data.Uniform(rng, [40, 64], -1, 1, dtype);
        CheckProduct(RefMatMul(RefArray.Of(tokens), RefArray.Of(weight), tb: true), tokens.MatMul(weight, transposeB: true), 64, "tokens x weightᵀ");
        // the same with A a transposed view: its batches' rows are not one matrix, each batch is its own product
        var columns = Data.Uniform(rng, [8, 64, 96], -1, 1, dtype);
        CheckProduct(RefMatMul(RefArray.Of(columns), RefArray.Of(weight), ta: true, tb: true), columns.MatMul(weight, transposeA: true, transposeB: true), 64, "viewᵀ x weightᵀ");
    }

    [Fact]
    public void Vector_operands_follow_pytorch_rules()
    {
        using var scope = Tensor.Scope();
        var v = Tensor.FromArray(new double[] { 1, 2, 3 });
        var m = Tensor.FromArray(new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } });
        var dot = v.MatMul(v);
        Assert.Equal(0, dot.Rank);
        Assert.Equal(14.0, dot.Item<double>());
        var vm = v.MatMul(m);
        Assert.Equal(new[] { 2 }, vm.Shape.ToArray());
        Assert.Equal(new[] { 4.0, 5.0 }, vm.ToArray<double>());
        var mv = m.T.MatMul(v);
        Assert.Equal(new[] { 4.0, 5.0 }, mv.ToArray<double>());
        var batched = Tensor.Stack([m.T, m.T]).MatMul(v);
        Assert.Equal(new[] { 2, 2 }, batched.Shape.ToArray());
    }

    [Fact]
    public void Empty_dims_give_empty_or_zero_results()
    {
        using var scope = Tensor.Scope();
        Assert.Equal(new[] { 0, 4 }, Tensor.Ones(0, 3).MatMul(Tensor.Ones(3, 4)).Shape.ToArray());
        var z = Tensor.Ones(2, 0).MatMul(Tensor.Ones(0, 4));
        Assert.Equal(new[] { 2, 4 }, z.Shape.ToArray());
        Assert.All(z.ToArray<float>(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Packed_and_unpacked_paths_agree_with_the_reference(bool unpacked)
    {
        using (Gemm.UseUnpacked(unpacked))
        {
            var rng = new Random(16);
            using var scope = Tensor.Scope();
            foreach (var (m, k, n) in new[] { (1, 1, 1), (5, 3, 17), (13, 70, 33), (64, 100, 48), (200, 40, 300), (128, 784, 256), (10, 128, 128) })
                foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                {
                    var a = Data.Uniform(rng, [m, k], -1, 1, dtype);
                    var b = Data.Uniform(rng, [k, n], -1, 1, dtype);
                    CheckProduct(RefMatMul(RefArray.Of(a), RefArray.Of(b)), a.MatMul(b), k, $"unpacked={unpacked} {m}x{k}x{n} {dtype}");
                    var acc = Data.Uniform(rng, [2, m, k], -1, 1, dtype);   // batched: one product per thread
                    CheckProduct(RefMatMul(RefArray.Of(acc), RefArray.Of(b)), acc.MatMul(b), k, $"batched unpacked={unpacked}");
                    // transposed operands stored column-major (x·Wᵀ, Gᵀ·x): copied or packed through the 8 × 8 transposes
                    var expected = RefMatMul(RefArray.Of(a), RefArray.Of(b));
                    var at = a.T.Contiguous();
                    var bt = b.T.Contiguous();
                    CheckProduct(expected, at.MatMul(b, transposeA: true), k, $"Aᵀ unpacked={unpacked} {m}x{k}x{n} {dtype}");
                    CheckProduct(expected, a.MatMul(bt, transposeB: true), k, $"Bᵀ unpacked={unpacked} {m}x{k}x{n} {dtype}");
                    CheckProduct(expected, at.MatMul(bt, transposeA: true, transposeB: true), k, $"AᵀBᵀ unpacked={unpacked} {m}x{k}x{n} {dtype}");
                }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(13, 21)]
    [InlineData(16, 40)]
    [InlineData(37, 9)]
    public unsafe void Transposing_copy_moves_every_element_of_ragged_blocks(int rows, int cols)
    {
        // a column-major source with padded columns (cs > rows) into a destination with padded rows
        long cs = rows + 3, ldd = cols + 5;
        var srcF = new float[cs * cols];
        var srcD = new double[cs * cols];
        for (int i = 0; i < srcF.Length; i++) { srcF[i] = i * 0.5f + 1; srcD[i] = i * 0.25 + 2; }
        var dstF = new float[rows * ldd];
        var dstD = new double[rows * ldd];
        fixed (float* s = srcF, d = dstF) Transpose.Copy(rows, cols, s, 1, cs, d, ldd);
        fixed (double* s = srcD, d = dstD) Transpose.Copy(rows, cols, s, 1, cs, d, ldd);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                Assert.Equal(srcF[i + j * cs], dstF[i * ldd + j]);
                Assert.Equal(srcD[i + j * cs], dstD[i * ldd + j]);
            }
        for (int i = 0; i < rows; i++)       // the padding is left alone
            for (long j = cols; j < ldd; j++) Assert.Equal(0f, dstF[i * ldd + j]);
    }

    [Fact]
    public void Vector512_micro_kernel_is_correct_where_it_is_not_accelerated_too()
    {
        foreach (bool wide in new[] { true, false })
        {
            using (Gemm.UseWide(wide))
                foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                {
                    var rng = new Random(15);
                    using var scope = Tensor.Scope();
                    var a = Data.Uniform(rng, [13, 70], -1, 1, dtype);
                    var b = Data.Uniform(rng, [70, 67], -1, 1, dtype);
                    CheckProduct(RefMatMul(RefArray.Of(a), RefArray.Of(b)), a.MatMul(b), 70, $"wide={wide} {dtype}");
                }
        }
    }
}

public sealed class CpuMatMulTests : MatMulTests;
