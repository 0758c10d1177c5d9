namespace Engine;

/// <summary>Misuse of the autograd engine: a freed graph, a missing or misshapen seed, a tensor changed in place.</summary>
public class AutogradException : InvalidOperationException
{
    /// <summary>Creates the exception with its full message.</summary>
    public AutogradException(string message) : base(message) { }
}

/// <summary>A NaN or infinity found by <see cref="GradMode.DetectAnomaly"/>.</summary>
public sealed class AnomalyException : AutogradException
{
    /// <summary>Creates the exception with its full message.</summary>
    public AnomalyException(string message) : base(message) { }
}
