namespace Engine.Optim;

/// <summary>Whether <see cref="ReduceLROnPlateau"/> watches a metric that should fall (a loss) or rise (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better (PyTorch's <c>'min'</c>).</summary>
    Min,
    /// <summary>Higher is better (PyTorch's <c>'max'</c>).</summary>
    Max,
}
