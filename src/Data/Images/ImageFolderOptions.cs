namespace Engine.Data;

/// <summary>How <see cref="ImageFolder.Scan"/> splits a folder's images.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>
    /// The fraction of each class's training images held out for validation when there is no
    /// <c>val/</c> folder (default 0.15).
    /// </summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>
    /// The fraction of each class's training images held out for testing when there is no
    /// <c>test/</c> folder (default 0.15).
    /// </summary>
    public double TestFraction { get; init; } = 0.15;

    /// <summary>The seed of the split.</summary>
    public ulong Seed { get; init; }
}
