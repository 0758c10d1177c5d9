using Engine.Kernels;

namespace Engine.Tests;

/// <summary>
/// The same inputs give the same bits whatever the number of threads: work that is combined
/// (partial sums, accumulated gradients) is split by the problem's size, never by the worker count.
/// Each case runs with 1, 2, 3, 4 and 16 threads (set for this test's thread only) and compares the bytes.
/// </summary>
public sealed class ThreadCountDeterminismTests
{
    private static readonly int[] s_threadCounts = [1, 2, 3, 4, 16];

    private static void SameBitsWithAnyThreadCount(string what, Func<Tensor[]> compute)
    {
        byte[][]? reference = null;
        foreach (int threads in s_threadCounts)
        {
            using var threadScope = CpuBackend.UseThreads(threads);
            using var scope = Tensor.Scope();
            var bytes = compute().Select(t => t.DType == DType.Float64
                ? t.ToArray<double>().SelectMany(BitConverter.GetBytes).ToArray()
                : t.To(DType.Float32).ToArray<float>().SelectMany(BitConverter.GetBytes).ToArray()).ToArray();
            if (reference is null) { reference = bytes; continue; }
            for (int i = 0; i < bytes.Length; i++)
                Assert.True(reference[i].AsSpan().SequenceEqual(bytes[i]), $"{what}: output {i} differs between 1 and {threads} threads");
        }
    }

    private static Tensor R(ulong seed, params int[] shape) => Tensor.RandN(shape, 0, 1, generator: new Generator(seed));

    public static TheoryData<string> Cases() =>
    [
        "sum of a million", "sum over rows", "sum over columns", "mean var logsumexp", "softmax", "matmul 256x300x200", "matmul 64x784x128",
        "matmul batched", "matmul 1x4096x1000", "conv 3x3 28", "conv small maps", "conv 7x7 stride 2", "conv 1x1", "pooling", "indexing",
        "conv one image 3x3 56", "conv one image 7x7", "conv two images 7x7",
    ];

    [Theory, MemberData(nameof(Cases))]
    public void An_op_gives_the_same_bits_with_any_thread_count(string name)
    {
        (int N, int C, int H, int K, int R, int Stride, int Pad) conv = name switch
        {
            "conv 3x3 28" => (8, 16, 28, 32, 3, 1, 1),
            "conv small maps" => (32, 64, 4, 64, 3, 1, 1),
            "conv 7x7 stride 2" => (4, 3, 64, 16, 7, 2, 3),
            // fewer images than threads: the image's work split by weight panel, and the choice between the direct kernels
            // made without looking at the thread count
            "conv one image 3x3 56" => (1, 16, 56, 32, 3, 1, 1),
            "conv one image 7x7" => (1, 64, 7, 64, 3, 1, 1),
            "conv two images 7x7" => (2, 64, 7, 64, 3, 1, 1),
            _ => (8, 64, 14, 32, 1, 1, 0),
        };
        SameBitsWithAnyThreadCount(name, () => name switch
        {
            "sum of a million" => [R(1, 1_000_003).Sum()],
            "sum over rows" => [R(2, 4096, 300).Sum(0)],
            "sum over columns" => [R(3, 300, 4096).Sum(1)],
            "mean var logsumexp" => [R(4, 64, 5000).Mean(1), R(4, 64, 5000).Var(1), R(4, 64, 5000).LogSumExp(1)],
            "softmax" => [R(5, 512, 1000).Softmax(1), R(5, 512, 1000).LogSoftmax(1)],
            "matmul 256x300x200" => [R(6, 256, 300).MatMul(R(7, 300, 200))],
            "matmul 64x784x128" => [R(8, 64, 784).MatMul(R(9, 784, 128)), R(8, 64, 784).MatMul(R(9, 64, 128), transposeA: true)],
            "matmul batched" => [R(10, 8, 64, 64).MatMul(R(11, 8, 64, 64))],
            "matmul 1x4096x1000" => [R(12, 1, 4096).MatMul(R(13, 4096, 1000))],
            "pooling" => [.. Pools(R(14, 8, 32, 56, 56))],
            "indexing" => [.. Indexing()],
            _ => [.. Convs(conv)],
        });
    }

    private static Tensor[] Convs((int N, int C, int H, int K, int R, int Stride, int Pad) c)
    {
        var x = R(20, c.N, c.C, c.H, c.H);
        var w = R(21, c.K, c.C, c.R, c.R);
        var o = new Conv2dOptions { Stride = c.Stride, Padding = c.Pad };
        var y = x.Conv2d(w, R(22, c.K), o);
        var dy = R(23, y.Shape.ToArray());
        return [y, Tensor.Conv2dBackwardInput(dy, w, x.Shape.ToArray(), o), Tensor.Conv2dBackwardWeight(x, dy, w.Shape.ToArray(), o)];
    }

    private static Tensor[] Pools(Tensor x)
    {
        var o = new Pool2dOptions(3) { Stride = 2, Padding = 1 };
        var (v, i) = x.MaxPool2dWithIndices(o);
        var a = x.AvgPool2d(o);
        return [v, Tensor.MaxPool2dBackward(R(30, v.Shape.ToArray()), i, x.Shape.ToArray(), o), a, Tensor.AvgPool2dBackward(R(31, a.Shape.ToArray()), x.Shape.ToArray(), o)];
    }

    private static Tensor[] Indexing()
    {
        var table = R(40, 1000, 64);
        var index = Tensor.RandInt(0, 1000, [200_000], generator: new Generator(41));
        var rows = R(42, 200_000, 64);
        return [table.IndexSelect(0, index), table.ScatterAdd(0, index.Reshape(-1, 1).Expand(200_000, 64).Contiguous(), rows)];
    }

    /// <summary>A whole epoch of LeNet and of the small ResNet: the weights after it are the same bytes with any thread count.</summary>
    [Theory]
    [InlineData("lenet", 1024)]
    [InlineData("resnet-small", 256)]
    public void A_training_epoch_gives_the_same_weights_with_any_thread_count(string model, int images)
    {
        using var all = Engine.Data.FashionMnist.LoadTrain();
        var train = new Engine.Data.Subset(all, [.. Enumerable.Range(0, images)]);
        SameBitsWithAnyThreadCount(model, () =>
        {
            var net = Engine.Layers.Models.Create(model, generator: new Generator(5));
            using var opt = new Engine.Optim.Adam(net.Parameters(), lr: 1e-3);
            Engine.Training.Trainer.Fit(net, new Engine.Layers.CrossEntropyLoss(), opt, new Engine.Data.DataLoader(train, 64, shuffle: true, seed: 6), 1);
            return [.. net.Parameters().Select(p => p.Data.Clone())];
        });
    }
}
