namespace Engine.Data;

/// <summary>An <see cref="ImageFolder"/>'s decoded images and its three splits; disposing it frees the pixels.</summary>
public sealed class ImageFolderData(ImageFolder folder, ImageDataset images, Subset train, Subset validation, Subset test) : IDisposable
{
    /// <summary>The scanned folder: classes, files, layout.</summary>
    public ImageFolder Folder { get; } = folder;

    /// <summary>Every image that decoded (and the files that did not, in <see cref="ImageDataset.Skipped"/>).</summary>
    public ImageDataset Images { get; } = images;

    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> Classes => Folder.Classes;

    /// <summary>The training images.</summary>
    public Subset Train { get; } = train;

    /// <summary>The validation images.</summary>
    public Subset Validation { get; } = validation;

    /// <summary>The test images.</summary>
    public Subset Test { get; } = test;

    /// <summary>Frees the pixels.</summary>
    public void Dispose() => Images.Dispose();
}
