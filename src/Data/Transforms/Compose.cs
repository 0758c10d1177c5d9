namespace Engine.Data;

/// <summary>Several transforms applied in order (torchvision's <c>Compose</c>); intermediates are disposed.</summary>
public sealed class Compose : ITransform
{
    private readonly ITransform[] _transforms;

    /// <summary>Applies <paramref name="transforms"/> first to last.</summary>
    public Compose(params ITransform[] transforms) => _transforms = [.. transforms];

    /// <summary>The transforms, in the order they are applied.</summary>
    public IReadOnlyList<ITransform> Transforms => _transforms;

    /// <inheritdoc/>
    public Tensor Apply(Tensor batch)
    {
        if (_transforms.Length == 0) return batch.Clone();
        var current = batch;
        foreach (var t in _transforms)
        {
            var next = t.Apply(current);
            if (!ReferenceEquals(current, batch) && !ReferenceEquals(current, next)) current.Dispose();
            current = next;
        }
        return current;
    }
}
