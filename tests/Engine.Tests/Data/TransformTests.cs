using Engine.Data;

namespace Engine.Tests;

/// <summary>Each transform on a small batch whose expected values are worked out by hand.</summary>
public sealed class TransformTests
{
    private static Tensor Batch(float[] values, params int[] shape) => Tensor.FromArray(values, shape);

    [Fact]
    public void Normalize_standardises_each_channel()
    {
        using var scope = Tensor.Scope();
        // channel 0 holds 1, 3 with mean 2, std 0.5: (1 − 2)/0.5 = −2, (3 − 2)/0.5 = 2
        // channel 1 holds 0.5, 1 with mean 0.5, std 0.25: 0 and (1 − 0.5)/0.25 = 2
        var x = Batch([1, 3, 0.5f, 1], 1, 2, 1, 2);
        var y = new Normalize([2, 0.5], [0.5, 0.25]).Apply(x);
        Assert.Equal(new float[] { -2, 2, 0, 2 }, y.ToArray<float>());
        Assert.Equal(new float[] { 1, 3, 0.5f, 1 }, x.ToArray<float>());
        // one mean and std for every channel
        Assert.Equal(new float[] { 0, 4, -1, 0 }, new Normalize([1], [0.5]).Apply(x).ToArray<float>());
    }

    [Fact]
    public void Horizontal_flip_mirrors_each_row()
    {
        using var scope = Tensor.Scope();
        // [[1, 2, 3], [4, 5, 6]] read right to left is [[3, 2, 1], [6, 5, 4]]
        var x = Batch([1, 2, 3, 4, 5, 6], 1, 1, 2, 3);
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4 }, new RandomHorizontalFlip(p: 1).Apply(x).ToArray<float>());
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, new RandomHorizontalFlip(p: 0).Apply(x).ToArray<float>());
        var two = Batch([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6], 2, 1, 2, 3);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 3, 2, 1, 6, 5, 4 }, RandomHorizontalFlip.Flip(two, [false, true]).ToArray<float>());
    }

    [Fact]
    public void Random_flips_depend_only_on_the_seed()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Rand(64, 1, 2, 3);
        var a = new RandomHorizontalFlip(0.5, seed: 3);
        var b = new RandomHorizontalFlip(0.5, seed: 3);
        var a1 = a.Apply(x).ToArray<float>();
        Assert.Equal(a1, b.Apply(x).ToArray<float>());
        var a2 = a.Apply(x).ToArray<float>();
        Assert.Equal(a2, b.Apply(x).ToArray<float>());
        Assert.NotEqual(a1, a2);
        // about half the samples flip
        var flipped = RandomHorizontalFlip.Flip(x, Enumerable.Repeat(true, 64).ToArray()).ToArray<float>();
        var xs = x.ToArray<float>();
        int count = Enumerable.Range(0, 64).Count(i => a1.AsSpan(6 * i, 6).SequenceEqual(flipped.AsSpan(6 * i, 6)));
        Assert.Equal(64, Enumerable.Range(0, 64).Count(i => a1.AsSpan(6 * i, 6).SequenceEqual(flipped.AsSpan(6 * i, 6)) || a1.AsSpan(6 * i, 6).SequenceEqual(xs.AsSpan(6 * i, 6))));
        Assert.InRange(count, 16, 48);
    }

    [Fact]
    public void Crop_with_padding_at_a_known_offset()
    {
        using var scope = Tensor.Scope();
        // [[1, 2], [3, 4]] padded by 1 is
        //   0 0 0 0
        //   0 1 2 0
        //   0 3 4 0
        //   0 0 0 0
        // the 2×2 crop at (top 0, left 1) is [[0, 0], [1, 2]], at (2, 2) it is [[4, 0], [0, 0]].
        var x = Batch([1, 2, 3, 4, 1, 2, 3, 4], 2, 1, 2, 2);
        var crop = new RandomCrop(2, padding: 1);
        Assert.Equal(new float[] { 0, 0, 1, 2, 4, 0, 0, 0 }, crop.Crop(x, [0, 2], [1, 2]).ToArray<float>());
        // at (1, 1) the crop is the image itself
        Assert.Equal(x.ToArray<float>(), crop.Crop(x, [1, 1], [1, 1]).ToArray<float>());
    }

    [Fact]
    public void Random_crops_are_seeded_windows_of_the_padded_image()
    {
        using var scope = Tensor.Scope();
        var x = Batch([1, 2, 3, 4], 1, 1, 2, 2);
        var crop = new RandomCrop(2, padding: 1, seed: 5);
        var windows = new List<float[]>();
        for (int top = 0; top <= 2; top++)
            for (int left = 0; left <= 2; left++)
                windows.Add(crop.Crop(x, [top], [left]).ToArray<float>());
        var same = new RandomCrop(2, padding: 1, seed: 5);
        var seen = new HashSet<int>();
        for (int i = 0; i < 40; i++)
        {
            var y = crop.Apply(x).ToArray<float>();
            Assert.Equal(y, same.Apply(x).ToArray<float>());
            int w = windows.FindIndex(v => v.SequenceEqual(y));
            Assert.True(w >= 0);
            seen.Add(w);
        }
        Assert.True(seen.Count >= 5, $"only {seen.Count} of 9 offsets in 40 draws");
    }

    [Fact]
    public void Bilinear_resize_of_2x2_to_4x4()
    {
        using var scope = Tensor.Scope();
        // Output i of 4 samples the input at s = max(0, (i + ½)·2/4 − ½) = 0, 0.25, 0.75, 1.25 (→ clamped
        // to the last input), so a row [a, b] becomes [a, ¾a + ¼b, ¼a + ¾b, b]:
        //   [1, 2] → [1, 1.25, 1.75, 2] and [3, 4] → [3, 3.25, 3.75, 4];
        // the columns do the same between those two rows: row 1 = ¾·row0 + ¼·row3 = [1.5, 1.75, 2.25, 2.5],
        // row 2 = ¼·row0 + ¾·row3 = [2.5, 2.75, 3.25, 3.5]. (PyTorch's interpolate(scale_factor=2,
        // mode="bilinear") gives the same.)
        var x = Batch([1, 2, 3, 4], 1, 1, 2, 2);
        var y = new Resize(4, 4).Apply(x);
        Assert.Equal(new[] { 1, 1, 4, 4 }, y.Shape.ToArray());
        Assert.Equal(new float[]
        {
            1.0f, 1.25f, 1.75f, 2.0f,
            1.5f, 1.75f, 2.25f, 2.5f,
            2.5f, 2.75f, 3.25f, 3.5f,
            3.0f, 3.25f, 3.75f, 4.0f,
        }, y.ToArray<float>());
    }

    [Fact]
    public void Bilinear_downscale_averages_neighbours()
    {
        using var scope = Tensor.Scope();
        // 4 → 2: s = (i + ½)·2 − ½ = 0.5, 2.5, so each output is the mean of an input pair:
        // the row [1, 3, 5, 9] becomes [2, 7]; two channels, two samples all behave alike.
        var x = Batch([1, 3, 5, 9, 1, 3, 5, 9, 2, 2, 2, 2, 0, 4, 0, 4], 2, 2, 1, 4);
        var y = new Resize(1, 2).Apply(x);
        Assert.Equal(new float[] { 2, 7, 2, 7, 2, 2, 2, 2 }, y.ToArray<float>());
    }

    [Fact]
    public void Grey_to_rgb_repeats_the_channel()
    {
        using var scope = Tensor.Scope();
        var x = Batch([1, 2, 3, 4], 2, 1, 1, 2);
        var y = new GreyToRgb().Apply(x);
        Assert.Equal(new[] { 2, 3, 1, 2 }, y.Shape.ToArray());
        Assert.Equal(new float[] { 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4 }, y.ToArray<float>());
    }

    [Fact]
    public void To_tensor_scales_pixels_to_0_1()
    {
        using var scope = Tensor.Scope();
        var pixels = Tensor.FromArray(new long[] { 0, 51, 255 });
        Assert.Equal(new float[] { 0, 0.2f, 1 }, new ToTensor().Apply(pixels).ToArray<float>());
        Assert.Equal(new float[] { 0, 0.2f, 1 }, ToTensor.FromBytes([0, 51, 255], 3).ToArray<float>());
    }

    [Fact]
    public void Compose_applies_in_order()
    {
        using var scope = Tensor.Scope();
        // bytes 0 and 255 → 0 and 1 → normalised with mean 0.5, std 0.5 → −1 and 1 → flipped → 1, −1
        var x = Tensor.FromArray(new float[] { 0, 255 }, 1, 1, 1, 2);
        var t = new Compose(new ToTensor(), new Normalize([0.5], [0.5]), new RandomHorizontalFlip(p: 1));
        Assert.Equal(new float[] { 1, -1 }, t.Apply(x).ToArray<float>());
        Assert.Equal(new float[] { 0, 255 }, x.ToArray<float>());
        Assert.Equal(3, t.Transforms.Count);
    }

    [Fact]
    public void Augmenting_a_loader_keeps_shapes()
    {
        using var scope = Tensor.Scope();
        using var data = new TensorDataset(Tensor.Rand(10, 1, 28, 28), Tensor.Zeros([10], DType.Int64));
        var augment = new Compose(new RandomCrop(28, padding: 2, seed: 1), new RandomHorizontalFlip(seed: 2), new Resize(32, 32), new GreyToRgb(),
            new Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]));
        foreach (var batch in new DataLoader(data, 4, shuffle: true, seed: 3, transform: augment))
            using (batch)
            {
                Assert.Equal(new[] { batch.Count, 3, 32, 32 }, batch.Inputs.Shape.ToArray());
                Assert.True(batch.Inputs.AllFinite());
            }
    }
}
