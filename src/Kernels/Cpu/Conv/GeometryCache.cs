using System.Collections.Concurrent;

namespace Engine.Kernels;

/// <summary>
/// What a convolution kernel derives from its geometry alone (tap offsets, pixel blocks, a choice rule), made on the first call and
/// kept: a network has a few geometries, and remaking the tables on every call put tens of kilobytes per layer on the
/// garbage collector (ResNet18 at one 224 × 224 image: about 0.3 MB per call, a gen-0 collection every few calls).
/// Past 64 geometries the table starts again. The values are shared between threads and must not be written.
/// </summary>
internal sealed class GeometryCache<TValue>(Func<Conv2dGeometry, TValue> make) where TValue : class
{
    private readonly ConcurrentDictionary<Conv2dGeometry, TValue> _made = new();

    /// <summary>The table of <paramref name="g"/>.</summary>
    public TValue For(Conv2dGeometry g)
    {
        if (_made.TryGetValue(g, out var made)) return made;
        if (_made.Count >= 64) _made.Clear();
        return _made[g] = make(g);
    }
}
