namespace Engine.Data;

/// <summary>
/// A data file or folder that cannot be used: missing, truncated, corrupt, or inconsistent with
/// its partner (images and labels of different counts). The message names the file and the
/// problem: <c>train-images-idx3-ubyte.gz: truncated: header declares …</c>.
/// </summary>
public sealed class DataException : EngineException
{
    /// <summary>Creates the exception with its full message.</summary>
    public DataException(string message) : base(message) { }
}
