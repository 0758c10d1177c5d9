namespace Engine.Data;

/// <summary>Thrown by <see cref="BoundedStream"/> when the decoder reads beyond the file.</summary>
internal sealed class TruncatedImageException(string message) : Exception(message);
