using System.Collections;

namespace Engine;

/// <summary>
/// The sizes of a tensor's dimensions, as <see cref="Tensor.Shape"/> gives them: read-only, indexable
/// (<c>shape[^1]</c>, <c>shape[1..]</c>), enumerable, comparable with <c>==</c>, and printed as
/// PyTorch prints a size: <c>[8, 16, 16, 16]</c>. It converts to <see cref="ReadOnlySpan{T}"/> of int
/// wherever a span is wanted.
/// </summary>
public readonly struct Shape : IReadOnlyList<int>, IEquatable<Shape>
{
    private readonly int[]? _dims;

    /// <summary>A shape of the given sizes (copied).</summary>
    public Shape(params ReadOnlySpan<int> dims) => _dims = dims.ToArray();

    /// <summary>Wraps an array the caller never changes again (the tensor's own).</summary>
    internal static Shape Wrap(int[] dims) => new(dims, wrap: true);

    private Shape(int[] dims, bool wrap) => _dims = dims;

    private ReadOnlySpan<int> Dims => _dims ?? [];

    /// <summary>The size of dimension <paramref name="index"/> (0 is the first).</summary>
    public int this[int index] => Dims[index];

    /// <summary>The number of dimensions (the rank).</summary>
    public int Length => Dims.Length;

    /// <summary>The number of dimensions, for <see cref="IReadOnlyCollection{T}"/>.</summary>
    public int Count => Dims.Length;

    /// <summary>Dimensions <paramref name="start"/> … <paramref name="start"/> + <paramref name="length"/> − 1 (what <c>shape[a..b]</c> calls).</summary>
    public ReadOnlySpan<int> Slice(int start, int length) => Dims.Slice(start, length);

    /// <summary>The sizes as a span.</summary>
    public ReadOnlySpan<int> AsSpan() => Dims;

    /// <summary>The sizes as a new array.</summary>
    public int[] ToArray() => Dims.ToArray();

    /// <summary>The number of elements: the product of the sizes (1 for a 0-d tensor).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            foreach (int d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>The shape as a span.</summary>
    public static implicit operator ReadOnlySpan<int>(Shape shape) => shape.Dims;

    /// <summary>The enumerator of the sizes, first dimension first.</summary>
    public ReadOnlySpan<int>.Enumerator GetEnumerator() => Dims.GetEnumerator();

    IEnumerator<int> IEnumerable<int>.GetEnumerator() => ((IEnumerable<int>)(_dims ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => (_dims ?? []).GetEnumerator();

    /// <summary>True when both have the same sizes.</summary>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <summary>True when the sizes equal <paramref name="other"/>'s.</summary>
    public bool SequenceEqual(ReadOnlySpan<int> other) => Dims.SequenceEqual(other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int d in Dims) hash.Add(d);
        return hash.ToHashCode();
    }

    /// <summary>True when both have the same sizes.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>True when the sizes differ.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>PyTorch's form: <c>[8, 16, 16, 16]</c>, <c>[]</c> for a 0-d tensor.</summary>
    public override string ToString() => "[" + string.Join(", ", _dims ?? []) + "]";
}
