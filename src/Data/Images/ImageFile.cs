namespace Engine.Data;

/// <summary>An image file and the index of its class.</summary>
public sealed record ImageFile(string Path, int Label);
