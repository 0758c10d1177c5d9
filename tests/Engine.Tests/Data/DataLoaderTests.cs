using Engine.Data;
using FsCheck.Xunit;

namespace Engine.Tests;

/// <summary>Batching, shuffling, drop-last and epochs of the DataLoader, and the seeded splits.</summary>
public sealed class DataLoaderTests
{
    /// <summary>n samples [1, 2, 2] whose every pixel and label is the sample's index, so a batch shows which samples it holds.</summary>
    private static TensorDataset Numbered(int n)
    {
        var x = new float[n * 4];
        for (int i = 0; i < x.Length; i++) x[i] = i / 4;
        return new TensorDataset(Tensor.FromArray(x, n, 1, 2, 2), Tensor.FromArray(Enumerable.Range(0, n).Select(i => (long)i).ToArray()));
    }

    /// <summary>The labels of each batch of one epoch; checks that each batch's inputs belong to its labels, and disposes it.</summary>
    private static List<long[]> Epoch(IEnumerable<Batch> batches)
    {
        var result = new List<long[]>();
        foreach (var batch in batches)
            using (batch)
            {
                var labels = batch.Labels.ToArray<long>();
                Assert.Equal(DType.Int64, batch.Labels.DType);
                Assert.Equal(new[] { labels.Length, 1, 2, 2 }, batch.Inputs.Shape.ToArray());
                var pixels = batch.Inputs.ToArray<float>();
                for (int i = 0; i < labels.Length; i++) Assert.Equal(labels[i], (long)pixels[4 * i + 3]);
                result.Add(labels);
            }
        return result;
    }

    [Fact]
    public void Batches_come_in_order_with_a_smaller_last_batch()
    {
        using var data = Numbered(10);
        var loader = new DataLoader(data, batchSize: 4);
        Assert.Equal(3, loader.BatchCount);
        var epoch = Epoch(loader);
        Assert.Equal(new[] { 4, 4, 2 }, epoch.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), epoch.SelectMany(b => b));
    }

    [Fact]
    public void Drop_last_leaves_out_the_smaller_batch()
    {
        using var data = Numbered(10);
        var loader = new DataLoader(data, batchSize: 4, dropLast: true);
        Assert.Equal(2, loader.BatchCount);
        Assert.Equal(new[] { 4, 4 }, Epoch(loader).Select(b => b.Length));
        Assert.Equal(new[] { 5, 5 }, Epoch(new DataLoader(data, batchSize: 5, dropLast: true)).Select(b => b.Length));
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_and_epochs_differ()
    {
        using var data = Numbered(50);
        var a = new DataLoader(data, 8, shuffle: true, seed: 7);
        var b = new DataLoader(data, 8, shuffle: true, seed: 7);
        var a0 = Epoch(a).SelectMany(x => x).ToArray();
        var a1 = Epoch(a).SelectMany(x => x).ToArray();
        Assert.Equal(2, a.Epoch);
        Assert.Equal(a0, Epoch(b).SelectMany(x => x));
        Assert.Equal(a1, Epoch(b).SelectMany(x => x));
        Assert.NotEqual(a0, a1);
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), a0);
        Assert.NotEqual(a0, new DataLoader(data, 8, shuffle: true, seed: 8).Order(0).Select(i => (long)i));
        Assert.Equal(a1, a.Order(1).Select(i => (long)i));
        Assert.Equal(a1, Epoch(a.Batches(1)).SelectMany(x => x));
    }

    [Property(MaxTest = 40)]
    public bool Every_index_appears_exactly_once_per_epoch(byte n, byte batchSize, bool dropLast, ulong seed, byte epoch)
    {
        int count = n % 40, size = batchSize % 9 + 1;
        using var data = Numbered(count);
        var loader = new DataLoader(data, size, shuffle: true, seed: seed, dropLast: dropLast);
        var batches = Epoch(loader.Batches(epoch));
        int expectedBatches = dropLast ? count / size : (count + size - 1) / size;
        var seen = batches.SelectMany(b => b).ToArray();
        return batches.Count == expectedBatches && batches.Count == loader.BatchCount
            && batches.Take(Math.Max(0, batches.Count - 1)).All(b => b.Length == size)
            && seen.Distinct().Count() == seen.Length
            && (dropLast ? seen.Length == count / size * size : seen.Order().SequenceEqual(Enumerable.Range(0, count).Select(i => (long)i)))
            && loader.Order(epoch).Order().SequenceEqual(Enumerable.Range(0, count));
    }

    /// <summary>A dataset that is not tensor-backed: the default GetBatch stacks its samples.</summary>
    private sealed class Squares : IDataset
    {
        public int Count => 5;

        public (Tensor Input, long Label) Get(int index) => (Tensor.Full([1, 2, 2], index * index), index % 2);
    }

    [Fact]
    public void A_dataset_without_tensors_is_batched_sample_by_sample()
    {
        var loader = new DataLoader(new Squares(), 3);
        var batches = loader.ToList();
        Assert.Equal(new[] { 3, 1, 2, 2 }, batches[0].Inputs.Shape.ToArray());
        Assert.Equal(new float[] { 9, 9, 9, 9, 16, 16, 16, 16 }, batches[1].Inputs.ToArray<float>());
        Assert.Equal(new long[] { 1, 0 }, batches[1].Labels.ToArray<long>());
        foreach (var b in batches) b.Dispose();
    }

    [Fact]
    public void The_transform_is_applied_to_each_batch()
    {
        using var data = Numbered(6);
        var loader = new DataLoader(data, 4, transform: new Normalize([1], [2]));
        using var first = loader.First();
        // (x − 1) / 2 for sample 3's pixels (all 3) is 1.
        Assert.Equal(1f, first.Inputs[3, 0, 1, 1]);
        Assert.Equal(-0.5f, first.Inputs[0, 0, 0, 0]);
    }

    [Fact]
    public void A_subset_is_batched_through_its_dataset()
    {
        using var data = Numbered(10);
        var subset = new Subset(data, [9, 2, 5]);
        Assert.Equal(new[] { new long[] { 9, 2 }, [5] }, Epoch(new DataLoader(subset, 2)));
        var (input, label) = subset.Get(1);
        using (input) Assert.Equal(2f, input[0, 1, 1]);
        Assert.Equal(2, label);
    }

    [Fact]
    public void Random_split_sizes_and_determinism()
    {
        using var data = Numbered(10);
        var parts = Datasets.RandomSplit(data, [7, 3], seed: 1);
        Assert.Equal(new[] { 7, 3 }, parts.Select(p => p.Count));
        Assert.Equal(Enumerable.Range(0, 10), parts.SelectMany(p => p.Indices).Order());
        var again = Datasets.RandomSplit(data, [7, 3], seed: 1);
        Assert.Equal(parts[1].Indices, again[1].Indices);
        Assert.NotEqual(parts[1].Indices, Datasets.RandomSplit(data, [7, 3], seed: 2)[1].Indices);

        // Fractions: floor(0.25·10) = 2 and floor(0.75·10) = 7 leave one sample, which goes to the first part.
        Assert.Equal(new[] { 3, 7 }, Datasets.RandomSplit(data, [0.25, 0.75], seed: 1).Select(p => p.Count));
        var (train, validation) = Datasets.TrainValidationSplit(data, 0.2, seed: 1);
        Assert.Equal((8, 2), (train.Count, validation.Count));
        Assert.Empty(train.Indices.Intersect(validation.Indices));
    }
}
