namespace Engine.Data;

/// <summary>
/// Fashion-MNIST (Zalando Research, MIT licence): 28×28 greyscale images of clothing in 10 classes,
/// stored as four IDX files. This assembly embeds a class-balanced subset (10,000 train + 2,000
/// test, 5.2 MB gzipped; the repository keeps it in <c>data/fashion-mnist-subset/</c>), so
/// <see cref="LoadTrain"/> and <see cref="LoadTest"/> work from any project with no files around;
/// Debian's <c>dataset-fashion-mnist</c> package installs the full 60,000 + 10,000 in <see cref="DebianDirectory"/>.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> installs the full set.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The embedded subset's folder, relative to the repository root.</summary>
    public const string SubsetRelativeDirectory = "data/fashion-mnist-subset";

    /// <summary>The standard name of the training images (also found with <c>.gz</c>).</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte";

    /// <summary>The standard name of the training labels (also found with <c>.gz</c>).</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";

    /// <summary>The standard name of the test images (also found with <c>.gz</c>).</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";

    /// <summary>The standard name of the test labels (also found with <c>.gz</c>).</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    /// <summary>
    /// The mean and standard deviation of all pixels of the full training set, as values in [0, 1]
    /// (0.2860, 0.3530), for <see cref="Normalize"/>.
    /// </summary>
    public static (double Mean, double Std) PixelStatistics => (0.2860, 0.3530);

    /// <summary>The class names, indexed by label: 0 T-shirt/top … 9 Ankle boot.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// The training split of the IDX files in <paramref name="directory"/>, or of the subset embedded in
    /// this assembly when null: images as float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]. The caller
    /// disposes the dataset.
    /// </summary>
    public static TensorDataset LoadTrain(string? directory = null) => directory is null
        ? LoadEmbedded(TrainImagesFile, TrainLabelsFile)
        : LoadSplit(directory, TrainImagesFile, TrainLabelsFile);

    /// <summary>The test split of the IDX files in <paramref name="directory"/>, or of the embedded subset when null.</summary>
    public static TensorDataset LoadTest(string? directory = null) => directory is null
        ? LoadEmbedded(TestImagesFile, TestLabelsFile)
        : LoadSplit(directory, TestImagesFile, TestLabelsFile);

    /// <summary>The names of the embedded subset's files, as resources of this assembly (the standard names with <c>.gz</c>).</summary>
    public static IReadOnlyList<string> EmbeddedFiles { get; } =
        [TrainImagesFile + ".gz", TrainLabelsFile + ".gz", TestImagesFile + ".gz", TestLabelsFile + ".gz"];

    /// <summary>One embedded subset file (a name from <see cref="EmbeddedFiles"/>) as a read-only stream; the caller disposes it.</summary>
    public static Stream OpenEmbedded(string name) =>
        typeof(FashionMnist).Assembly.GetManifestResourceStream(ResourcePrefix + name)
        ?? throw new DataException($"{name}: not one of the embedded Fashion-MNIST files ({string.Join(", ", EmbeddedFiles)})");

    private const string ResourcePrefix = "fashion-mnist-subset/";

    private static TensorDataset LoadEmbedded(string images, string labels)
    {
        using var imageStream = OpenEmbedded(images + ".gz");
        using var labelStream = OpenEmbedded(labels + ".gz");
        string imageName = $"embedded {images}.gz", labelName = $"embedded {labels}.gz";
        var (imageData, dims) = IdxReader.Read(imageStream, imageName, IdxReader.ImagesMagic, "image");
        var (labelData, _) = IdxReader.Read(labelStream, labelName, IdxReader.LabelsMagic, "label");
        return Build(new IdxImages(imageData, dims[0], dims[1], dims[2]), labelData, imageName, labelName);
    }

    /// <summary>
    /// Reads an image file and a label file into a dataset, checking that their counts agree and
    /// that every label names one of the 10 classes.
    /// </summary>
    public static TensorDataset Load(string imagesPath, string labelsPath) =>
        Build(IdxReader.ReadImageBytes(imagesPath), IdxReader.ReadLabelBytes(labelsPath), imagesPath, labelsPath);

    private static TensorDataset Build(IdxImages images, byte[] labels, string imagesName, string labelsName)
    {
        if (images.Count != labels.Length)
            throw new DataException($"{imagesName} x {labelsName}: {images.Count} images but {labels.Length} labels: the counts must agree");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= ClassNames.Count)
                throw new DataException($"{labelsName}: label {labels[i]} at index {i}: labels must be 0 … {ClassNames.Count - 1}");
        var values = new long[labels.Length];
        for (int i = 0; i < values.Length; i++) values[i] = labels[i];
        return new TensorDataset(images.ToTensor(), Tensor.FromArray(values));
    }

    /// <summary>
    /// The path of <paramref name="name"/> or <paramref name="name"/>.gz in <paramref name="directory"/>
    /// (the raw file wins when both exist); a <see cref="DataException"/> naming the folder and the
    /// file when neither does.
    /// </summary>
    public static string FindFile(string directory, string name)
    {
        if (!Directory.Exists(directory))
            throw new DataException($"{directory}: data directory not found: it should hold the Fashion-MNIST IDX files ({TrainImagesFile}.gz, ...)");
        foreach (var candidate in new[] { name, name + ".gz" })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DataException($"{directory}: {name} not found: expected {name} or {name}.gz in this directory");
    }

    /// <summary>True when <paramref name="directory"/> holds the training images and labels (raw or gzipped) under their standard names.</summary>
    public static bool HasFiles(string directory) =>
        Directory.Exists(directory) && new[] { TrainImagesFile, TrainLabelsFile }.All(n => File.Exists(Path.Combine(directory, n)) || File.Exists(Path.Combine(directory, n + ".gz")));

    /// <summary>
    /// The repository's copy of the subset: the first <c>data/fashion-mnist-subset</c> holding the
    /// training images found walking up from <see cref="AppContext.BaseDirectory"/> and then from the
    /// current directory; null outside the repository (where the embedded copy serves).
    /// </summary>
    public static string? FindSubsetDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, SubsetRelativeDirectory);
                if (File.Exists(Path.Combine(candidate, TrainImagesFile + ".gz")) || File.Exists(Path.Combine(candidate, TrainImagesFile)))
                    return candidate;
            }
        }
        return null;
    }

    /// <summary>The repository's copy of the subset; a <see cref="DataException"/> saying where it looked when it is not found.</summary>
    public static string SubsetDirectory() =>
        FindSubsetDirectory() ?? throw new DataException(
            $"{SubsetRelativeDirectory}: the embedded Fashion-MNIST subset was not found above {AppContext.BaseDirectory} " +
            $"or {Directory.GetCurrentDirectory()}: run from the repository, or pass a data directory (the full set: {DebianDirectory})");

    private static TensorDataset LoadSplit(string directory, string images, string labels) =>
        Load(FindFile(directory, images), FindFile(directory, labels));
}
