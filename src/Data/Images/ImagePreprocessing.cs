namespace Engine.Data;

/// <summary>
/// What a network expects of an image, and how to get it there from a file: the input side, the
/// resize and crop, grey or colour, the channel order, and the per-channel normalisation. One
/// record drives training (with augmentation), evaluation and prediction, so the three agree.
/// </summary>
/// <remarks>
/// Images are kept at <see cref="ResizeTo"/> (the central square, antialiased; see
/// <see cref="ImageDataset"/>), then cut to <see cref="Size"/>: the central crop for evaluation, a
/// random resized crop (and a horizontal flip) for training. With <see cref="Squash"/> the whole image
/// is resized to <see cref="Size"/> instead. Then grey is repeated to the network's
/// <see cref="Channels"/>, the channels are reversed for <see cref="Bgr"/> networks, and each channel
/// becomes (x − mean) / std with x in [0, 1]: a network fed 0-255 values has mean = m/255 and
/// std = 1/255.
/// </remarks>
public sealed record ImagePreprocessing
{
    /// <summary>The network's input side.</summary>
    public required int Size { get; init; }

    /// <summary>The side images are kept at before cropping (at least <see cref="Size"/>); ignored with <see cref="Squash"/>.</summary>
    public int ResizeTo { get; init; }

    /// <summary>Resize the whole image to <see cref="Size"/> (no crop, the aspect ratio may change).</summary>
    public bool Squash { get; init; }

    /// <summary>Read images as grey (repeated to 3 channels when <see cref="Channels"/> is 3).</summary>
    public bool Grey { get; init; }

    /// <summary>The network's input channels: 1 or 3.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>The network takes blue, green, red.</summary>
    public bool Bgr { get; init; }

    /// <summary>Per-channel means, on the [0, 1] scale, in the network's channel order (one value for all channels, or one per channel).</summary>
    public required double[] Mean { get; init; }

    /// <summary>Per-channel standard deviations, on the [0, 1] scale.</summary>
    public required double[] Std { get; init; }

    /// <summary>The side images are kept at: <see cref="ResizeTo"/>, or <see cref="Size"/> when squashing or unset.</summary>
    public int StoredSize => Squash || ResizeTo < Size ? Size : ResizeTo;

    /// <summary>
    /// torchvision's ImageNet preprocessing at <paramref name="size"/>: RGB, mean (0.485, 0.456, 0.406),
    /// std (0.229, 0.224, 0.225), images kept at 8/7 of the size (256 for 224).
    /// </summary>
    public static ImagePreprocessing ImageNet(int size) => new()
    {
        Size = size, ResizeTo = MarginFor(size), Mean = [0.485, 0.456, 0.406], Std = [0.229, 0.224, 0.225],
    };

    /// <summary>The side kept for crops of <paramref name="size"/>: size · 8/7, rounded (73 for 64, 256 for 224).</summary>
    public static int MarginFor(int size) => (size * 8 + 3) / 7;

    /// <summary>How <see cref="ImageDataset.Load"/> should keep images for this network.</summary>
    public ImageLoadOptions LoadOptions() => new() { Size = StoredSize, Squash = Squash, Grey = Grey };

    /// <summary>
    /// Batches of kept images ([B, 1 or 3, S', S'] in [0, 1]) → network inputs: the central crop (or the
    /// resize when squashing), channels, normalisation.
    /// </summary>
    public ITransform Evaluation() => new Compose([Fit(), .. Finish()]);

    /// <summary>
    /// Like <see cref="Evaluation"/>, with augmentation: a random resized crop of area fraction
    /// [<paramref name="minScale"/>, 1] (ratio 3/4 to 4/3) and a horizontal flip with probability ½,
    /// drawn from generators seeded with <paramref name="seed"/>.
    /// </summary>
    public ITransform Training(ulong seed, double minScale = 0.35, bool flip = true)
    {
        var steps = new List<ITransform> { new RandomResizedCrop(Size, minScale, seed: Seeds.Mix(seed, 1)) };
        if (flip) steps.Add(new RandomHorizontalFlip(seed: Seeds.Mix(seed, 2)));
        return new Compose([.. steps, .. Finish()]);
    }

    /// <summary>An image file decoded and resized as <see cref="ImageDataset"/> keeps it (no tensors: safe on any thread).</summary>
    public DecodedImage Decode(string path, ImageDecodeOptions? options = null)
    {
        var image = ImageDecoder.Read(path, Grey, options);
        return Squash ? image.Resized(Size, Size) : image.CroppedSquare(StoredSize);
    }

    /// <summary>An image file as the network's input [1, C, S, S], prepared as for evaluation.</summary>
    public Tensor Load(string path, ImageDecodeOptions? options = null)
    {
        using var x = Decode(path, options).ToTensor();
        return Evaluation().Apply(x);
    }

    private ITransform Fit() => Squash ? new Resize(Size, Size) : new CenterCrop(Size);

    private IEnumerable<ITransform> Finish()
    {
        if (Grey && Channels == 3) yield return new GreyToRgb();
        if (Bgr && Channels == 3) yield return new RgbToBgr();
        yield return new Normalize(Mean, Std);
    }
}
