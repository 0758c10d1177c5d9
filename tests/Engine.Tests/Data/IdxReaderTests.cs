using Engine.Data;

namespace Engine.Tests;

/// <summary>The IDX reader on the embedded subset and on tiny files written byte by byte.</summary>
public sealed class IdxReaderTests(SubsetFixture subset) : IClassFixture<SubsetFixture>
{
    [Fact]
    public void The_embedded_subset_has_10000_train_and_2000_test_images_of_28x28()
    {
        Assert.Equal(new[] { 10000, 1, 28, 28 }, subset.Train.Inputs.Shape.ToArray());
        Assert.Equal(new[] { 10000 }, subset.Train.Labels.Shape.ToArray());
        Assert.Equal(new[] { 2000, 1, 28, 28 }, subset.Test.Inputs.Shape.ToArray());
        Assert.Equal(new[] { 2000 }, subset.Test.Labels.Shape.ToArray());
        Assert.Equal(DType.Float32, subset.Train.Inputs.DType);
        Assert.Equal(DType.Int64, subset.Train.Labels.DType);
    }

    [Fact]
    public void The_embedded_subset_is_class_balanced()
    {
        var train = subset.Train.Labels.ToArray<long>();
        var test = subset.Test.Labels.ToArray<long>();
        for (int c = 0; c < 10; c++)
        {
            Assert.Equal(1000, train.Count(l => l == c));
            Assert.Equal(200, test.Count(l => l == c));
        }
    }

    [Fact]
    public void Pixels_lie_in_0_to_1_and_use_the_whole_range()
    {
        using var scope = Tensor.Scope();
        foreach (var images in new[] { subset.Train.Inputs, subset.Test.Inputs })
        {
            Assert.Equal(0.0, images.Min().Item<double>());
            Assert.Equal(1.0, images.Max().Item<double>());
        }
        // Fashion-MNIST's pixel mean is about 0.286 on the full set; the subset is close to it.
        Assert.InRange(subset.Train.Inputs.Mean().Item<double>(), 0.27, 0.30);
    }

    [Fact]
    public void Raw_bytes_match_the_scaled_tensor()
    {
        using var scope = Tensor.Scope();
        var raw = IdxReader.ReadImageBytes(FashionMnist.FindFile(subset.Directory, FashionMnist.TestImagesFile));
        Assert.Equal((2000, 28, 28), (raw.Count, raw.Rows, raw.Cols));
        var unscaled = IdxReader.ReadImages(FashionMnist.FindFile(subset.Directory, FashionMnist.TestImagesFile), scale: false);
        Assert.Equal(raw.Pixels.Select(b => (float)b), unscaled.ToArray<float>());
        // ToTensor divides by 255 exactly as the reader does.
        Assert.Equal(subset.Test.Inputs.ToArray<float>(), new ToTensor().Apply(unscaled).ToArray<float>());
    }

    [Fact]
    public void The_class_names_are_fashion_mnists()
    {
        Assert.Equal(10, FashionMnist.ClassNames.Count);
        Assert.Equal("T-shirt/top", FashionMnist.ClassNames[0]);
        Assert.Equal("Sneaker", FashionMnist.ClassNames[7]);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[9]);
    }

    // Two 2x3 images with pixels 0, 51, ..., 255: as fractions of 255 that is 0, 0.2, 0.4, 0.6, 0.8, 1.
    private static readonly byte[] TwoImages = [0, 51, 102, 153, 204, 255, 255, 204, 153, 102, 51, 0];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tiny_file_written_byte_by_byte_reads_back(bool gzip)
    {
        using var files = new IdxFiles();
        var images = IdxFiles.Images(TwoImages, 2, 2, 3);
        var labels = IdxFiles.Labels(7, 3);
        var ip = files.Write(gzip ? "images.gz" : "images", gzip ? IdxFiles.Gzip(images) : images);
        var lp = files.Write(gzip ? "labels.gz" : "labels", gzip ? IdxFiles.Gzip(labels) : labels);
        using var scope = Tensor.Scope();
        var x = IdxReader.ReadImages(ip);
        Assert.Equal(new[] { 2, 1, 2, 3 }, x.Shape.ToArray());
        Assert.Equal(TwoImages.Select(b => b / 255f), x.ToArray<float>());
        Assert.Equal(0.2f, x[0, 0, 0, 1]);
        Assert.Equal(1f, x[0, 0, 1, 2]);
        var y = IdxReader.ReadLabels(lp);
        Assert.Equal(DType.Int64, y.DType);
        Assert.Equal(new long[] { 7, 3 }, y.ToArray<long>());
    }

    /// <summary>A 3.7 MB gzip file that declares two million images (1.5 GB) is refused without allocating for them.</summary>
    [Fact]
    public void A_gzip_file_declaring_more_than_it_holds_is_refused_before_allocating_it()
    {
        using var files = new IdxFiles();
        var pixels = new byte[4700 * 784];
        new Random(1).NextBytes(pixels);
        var header = IdxFiles.Header(0x00000803, 2_000_000, 28, 28);
        string path = files.Write("big.gz", IdxFiles.Gzip([.. header, .. pixels]));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataException>(() => IdxReader.ReadImageBytes(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated: header declares 2000000 images of 28x28 (1568000000 bytes) but only 3684800 bytes follow", e.Message);
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated for a {new FileInfo(path).Length}-byte file");
    }

    [Fact]
    public void Raw_files_are_found_as_well_as_gzipped_ones()
    {
        using var files = new IdxFiles();
        files.Write("train-images-idx3-ubyte", IdxFiles.Images(TwoImages, 2, 2, 3));
        files.Write("train-labels-idx1-ubyte.gz", IdxFiles.Gzip(IdxFiles.Labels(1, 9)));
        using var data = FashionMnist.LoadTrain(files.Folder);
        Assert.Equal(2, data.Count);
        Assert.Equal(9, data.LabelAt(1));
    }

    [Fact]
    public void The_subset_directory_is_found_from_the_test_binaries()
    {
        var dir = FashionMnist.FindSubsetDirectory();
        Assert.NotNull(dir);
        Assert.Equal(Path.Combine(FashionMnistPaths.RepositoryRoot(), "data", "fashion-mnist-subset"), Path.GetFullPath(dir!));
    }
}
