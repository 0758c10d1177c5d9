namespace Engine;

/// <summary>How a loss combines its per-sample values.</summary>
public enum Reduction
{
    /// <summary>The (weighted) mean.</summary>
    Mean,
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>One value per sample (or element).</summary>
    None,
}
