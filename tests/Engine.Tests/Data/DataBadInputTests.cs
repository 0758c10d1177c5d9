using Engine.Data;

namespace Engine.Tests;

/// <summary>
/// Bad data files and bad arguments: each gives a typed exception whose message names the file
/// (or the op) and the problem.
/// </summary>
public sealed class DataBadInputTests : IDisposable
{
    private readonly IdxFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static readonly byte[] Pixels = new byte[2 * 28 * 28];

    private static T Throws<T>(Action call, params string[] parts) where T : Exception
    {
        var ex = Assert.Throws<T>(call);
        foreach (var part in parts) Assert.Contains(part, ex.Message);
        return ex;
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(_files.Folder, "nope-images-idx3-ubyte.gz");
        Throws<DataException>(() => IdxReader.ReadImages(path), path, "file not found");
        Throws<DataException>(() => IdxReader.ReadLabels(path), path, "file not found");
        Throws<DataException>(() => IdxReader.ReadImages(_files.Folder), _files.Folder, "is a directory");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bad_magic_is_rejected(bool gzip)
    {
        byte[] bytes = [.. IdxFiles.Header(0x12345678, 2, 28, 28), .. Pixels];
        var path = _files.Write("bad", gzip ? IdxFiles.Gzip(bytes) : bytes);
        Throws<DataException>(() => IdxReader.ReadImages(path), path, "bad magic number 0x12345678", "starts with 0x00000803");
    }

    [Fact]
    public void A_text_file_has_bad_magic()
    {
        var path = _files.Write("notes.txt", "hello, world"u8.ToArray());
        Throws<DataException>(() => IdxReader.ReadLabels(path), path, "bad magic number", "0x00000801");
    }

    [Fact]
    public void A_wrong_dtype_code_is_rejected()
    {
        var path = _files.Write("floats", [.. IdxFiles.Header(0x00000D03, 2, 28, 28), .. new byte[4 * Pixels.Length]]);
        Throws<DataException>(() => IdxReader.ReadImages(path), path, "dtype code 0x0D (float32) is not supported", "unsigned bytes");
    }

    [Fact]
    public void Labels_read_as_images_and_images_as_labels_are_rejected()
    {
        var labels = _files.Write("labels", IdxFiles.Labels(1, 2, 3));
        var images = _files.Write("images", IdxFiles.Images(Pixels, 2, 28, 28));
        Throws<DataException>(() => IdxReader.ReadImages(labels), labels, "1 dims (is this a label file?)", "0x00000803");
        Throws<DataException>(() => IdxReader.ReadLabels(images), images, "3 dims (is this an image file?)", "0x00000801");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_short_file_is_truncated(bool gzip)
    {
        // The header promises 2 images of 28x28 = 1568 bytes; only 100 follow.
        byte[] bytes = [.. IdxFiles.Header(0x00000803, 2, 28, 28), .. new byte[100]];
        var path = _files.Write("train-images-idx3-ubyte" + (gzip ? ".gz" : ""), gzip ? IdxFiles.Gzip(bytes) : bytes);
        Throws<DataException>(() => IdxReader.ReadImages(path), path,
            "truncated: header declares 2 images of 28x28 (1568 bytes) but only 100 bytes follow");
    }

    [Fact]
    public void A_short_label_file_is_truncated()
    {
        var path = _files.Write("labels", [.. IdxFiles.Header(0x00000801, 10), 1, 2, 3]);
        Throws<DataException>(() => IdxReader.ReadLabels(path), path, "truncated: header declares 10 labels (10 bytes) but only 3 bytes follow");
    }

    [Fact]
    public void A_gzip_file_cut_short_is_rejected_before_allocating()
    {
        // 1,000 bytes of gzip cannot decompress to the 1,568,016 bytes the header declares
        // (deflate's ratio is at most 1032:1), so the reader stops before allocating the images.
        var source = FashionMnist.FindFile(FashionMnistPaths.Subset(), FashionMnist.TestImagesFile);
        var path = _files.Write("cut-images.gz", File.ReadAllBytes(source)[..1000]);
        Throws<DataException>(() => IdxReader.ReadImages(path), path,
            "truncated: header declares 2000 images of 28x28 (1568000 bytes)", "gzip file of 1000 bytes");
    }

    [Fact]
    public void A_gzip_file_cut_in_the_middle_is_rejected()
    {
        var source = FashionMnist.FindFile(FashionMnistPaths.Subset(), FashionMnist.TestImagesFile);
        var bytes = File.ReadAllBytes(source);
        var path = _files.Write("half-images.gz", bytes[..(bytes.Length / 2)]);
        // .NET's GZipStream ends quietly at the cut; the reader counts what came out.
        Throws<DataException>(() => IdxReader.ReadImages(path), path, "truncated: header declares 2000 images of 28x28 (1568000 bytes) but only ");
    }

    [Fact]
    public void A_file_shorter_than_its_header_is_truncated()
    {
        var empty = _files.Write("empty", []);
        Throws<DataException>(() => IdxReader.ReadImages(empty), empty, "truncated: 0 bytes");
        var cut = _files.Write("cut", IdxFiles.Header(0x00000803, 2, 28, 28)[..10]);
        Throws<DataException>(() => IdxReader.ReadImages(cut), cut, "truncated: the header needs 16 bytes but the file holds only 10");
    }

    [Fact]
    public void Absurd_sizes_are_rejected_before_allocating()
    {
        var huge = _files.Write("huge", IdxFiles.Header(0x00000803, 100000, 1000, 1000));
        Throws<DataException>(() => IdxReader.ReadImages(huge), huge, "absurd size: header declares 100000 images of 1000x1000 (100000000000 bytes)");
        var negative = _files.Write("negative", IdxFiles.Header(0x00000803, -1, 28, 28));
        Throws<DataException>(() => IdxReader.ReadImages(negative), negative, "absurd size: dim 0 of the header is 4294967295");
        // Large but possible: the raw file's length is checked before the 784 MB are allocated.
        var big = _files.Write("big", IdxFiles.Header(0x00000803, 1000000, 28, 28));
        Throws<DataException>(() => IdxReader.ReadImages(big), big, "truncated: header declares 1000000 images of 28x28 (784000000 bytes) but only 0 bytes follow");
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        byte[] bytes = [.. IdxFiles.Labels(1, 2), 9];
        var raw = _files.Write("labels", bytes);
        Throws<DataException>(() => IdxReader.ReadLabels(raw), raw, "trailing data: header declares 2 labels (2 bytes) but 3 bytes follow");
        var gz = _files.Write("labels.gz", IdxFiles.Gzip(bytes));
        Throws<DataException>(() => IdxReader.ReadLabels(gz), gz, "trailing data: header declares 2 labels (2 bytes) but more bytes follow");
    }

    [Fact]
    public void Images_and_labels_of_different_counts_are_named()
    {
        var images = _files.Write("train-images-idx3-ubyte", IdxFiles.Images(Pixels, 2, 28, 28));
        var labels = _files.Write("train-labels-idx1-ubyte", IdxFiles.Labels(1, 2, 3));
        Throws<DataException>(() => FashionMnist.LoadTrain(_files.Folder), images, labels, "2 images but 3 labels");
    }

    [Fact]
    public void A_label_outside_the_classes_is_named()
    {
        _files.Write("train-images-idx3-ubyte", IdxFiles.Images(Pixels, 2, 28, 28));
        var labels = _files.Write("train-labels-idx1-ubyte", IdxFiles.Labels(1, 12));
        Throws<DataException>(() => FashionMnist.LoadTrain(_files.Folder), labels, "label 12 at index 1", "0 … 9");
    }

    [Fact]
    public void A_missing_data_directory_or_file_is_named()
    {
        var nowhere = Path.Combine(_files.Folder, "no-such-dir");
        Throws<DataException>(() => FashionMnist.LoadTrain(nowhere), nowhere, "data directory not found");
        _files.Write("train-images-idx3-ubyte.gz", IdxFiles.Gzip(IdxFiles.Images(Pixels, 2, 28, 28)));
        Throws<DataException>(() => FashionMnist.LoadTrain(_files.Folder), _files.Folder, "train-labels-idx1-ubyte not found", "train-labels-idx1-ubyte.gz");
        Throws<DataException>(() => FashionMnist.LoadTest(_files.Folder), _files.Folder, "t10k-images-idx3-ubyte not found");
    }

    [Fact]
    public void Data_errors_are_engine_errors()
    {
        Assert.True(typeof(EngineException).IsAssignableFrom(typeof(DataException)));
    }

    [Fact]
    public void A_tensor_dataset_with_mismatched_counts_names_both_shapes()
    {
        using var scope = Tensor.Scope();
        Throws<ShapeException>(() => new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros([2], DType.Int64)),
            "TensorDataset: [3, 2] x [2]: inputs hold 3 samples but labels hold 2");
        Throws<DTypeException>(() => new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros([3], DType.Bool)), "TensorDataset",
            "labels must be int32 or int64 class indices or float32/float64 targets, not bool");
        Throws<ShapeException>(() => new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros([3, 1], DType.Int64)), "TensorDataset: [3, 2] x [3, 1]", "labels [N]");
        Throws<ShapeException>(() => new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros(3, 1, 1)), "TensorDataset: [3, 2] x [3, 1, 1]", "targets [N] or [N, k]");
        using var targets = new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros(3, 1));
        Throws<DataException>(() => targets.Get(0), "TensorDataset.Get", "float32 targets [3, 1]", "not class indices");
    }

    [Fact]
    public void Bad_loader_and_split_arguments_are_rejected()
    {
        using var scope = Tensor.Scope();
        using var data = new TensorDataset(Tensor.Zeros(4, 2), Tensor.Zeros([4], DType.Int64));
        Throws<EngineException>(() => new DataLoader(data, 0), "DataLoader: batch size 0", "at least 1");
        Throws<EngineException>(() => Datasets.RandomSplit(data, [3, 2], 0), "RandomSplit: counts (3, 2)", "add up to 5", "holds 4");
        Throws<EngineException>(() => Datasets.RandomSplit(data, [0.5, 0.6], 0), "RandomSplit", "add up to 1.1");
        Throws<EngineException>(() => Datasets.TrainValidationSplit(data, 1.5, 0), "TrainValidationSplit", "1.5");
        Throws<IndexRangeException>(() => data.Get(4), "TensorDataset.Get: [4, 2]", "sample 4 is out of range for 4 samples");
        Throws<IndexRangeException>(() => new Subset(data, [0, 7]), "Subset", "index 7 is out of range");
    }

    [Fact]
    public void Bad_transform_inputs_name_the_transform_and_the_shape()
    {
        using var scope = Tensor.Scope();
        Throws<ShapeException>(() => new Resize(4, 4).Apply(Tensor.Zeros(1, 2, 2)), "Resize: [1, 2, 2]", "[B, C, H, W]");
        Throws<DTypeException>(() => new RandomHorizontalFlip().Apply(Tensor.Zeros([1, 1, 2, 2], DType.Int64)), "RandomHorizontalFlip", "int64");
        Throws<ShapeException>(() => new Normalize([0.5, 0.5], [1, 1]).Apply(Tensor.Zeros(1, 3, 2, 2)), "Normalize: [1, 3, 2, 2]", "2 means and stds for 3 channels");
        Throws<EngineException>(() => new Normalize([0.5], [0]), "Normalize", "std 0");
        Throws<ShapeException>(() => new GreyToRgb().Apply(Tensor.Zeros(1, 3, 2, 2)), "GreyToRgb: [1, 3, 2, 2]", "needs 1 channel, not 3");
        Throws<ShapeException>(() => new RandomCrop(8, padding: 1).Apply(Tensor.Zeros(1, 1, 4, 4)), "RandomCrop: [1, 1, 4, 4]", "crop 8x8 is larger than the padded image 6x6");
        Throws<IndexRangeException>(() => new RandomCrop(2, padding: 1).Crop(Tensor.Zeros(1, 1, 2, 2), [3], [0]), "RandomCrop", "offset (3, 0)", "[0, 2] x [0, 2]");
        Throws<EngineException>(() => new RandomHorizontalFlip(1.5), "RandomHorizontalFlip: p 1.5");
    }
}
