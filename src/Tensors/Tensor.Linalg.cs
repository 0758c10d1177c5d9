using Engine.Kernels;

namespace Engine;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's rules: vector·vector is a dot product, a vector operand gains
    /// and then loses a unit dim, and leading (batch) dims broadcast. With a transpose flag the
    /// last two dims of that operand are swapped first (no copy is made).
    /// </summary>
    public Tensor MatMul(Tensor other, bool transposeA = false, bool transposeB = false)
    {
        const string op = "MatMul";
        CheckOperands(op, this, other, Floats);
        if (Rank == 0 || other.Rank == 0)
            throw Errors.ShapeError(op, _shape, other._shape, "both operands need at least one dim");
        if ((transposeA && Rank < 2) || (transposeB && other.Rank < 2))
            throw Errors.ShapeError(op, _shape, other._shape, "a transposed operand needs at least two dims");
        using var a = Rank == 1 ? Unsqueeze(0) : Alias();
        using var b = other.Rank == 1 ? other.Unsqueeze(1) : other.Alias();
        int m = transposeA ? a._shape[^1] : a._shape[^2];
        int ka = transposeA ? a._shape[^2] : a._shape[^1];
        int kb = transposeB ? b._shape[^1] : b._shape[^2];
        int n = transposeB ? b._shape[^2] : b._shape[^1];
        if (ka != kb) throw Errors.ShapeError(op, _shape, other._shape, $"inner sizes {ka} and {kb} differ");
        var batch = BroadcastShapes(op, a._shape.AsSpan(0, a.Rank - 2), b._shape.AsSpan(0, b.Rank - 2));
        using var va = a.BroadcastTo(op, [.. batch, a._shape[^2], a._shape[^1]]);
        using var vb = b.BroadcastTo(op, [.. batch, b._shape[^2], b._shape[^1]]);
        var y = Empty([.. batch, m, n], DType, Device);
        if (y.Numel > 0) Backend.MatMul(DType, va.BufferView(op), transposeA, vb.BufferView(op), transposeB, y.BufferView(op));
        if (Rank > 1 && other.Rank > 1) return y;
        using (y)
        {
            var shape = y._shape.ToList();
            if (other.Rank == 1) shape.RemoveAt(shape.Count - 1);
            if (Rank == 1) shape.RemoveAt(shape.Count - (other.Rank == 1 ? 1 : 2));
            return y.View([.. shape]);
        }
    }

    /// <summary>A new handle on exactly this view.</summary>
    private Tensor Alias() => ViewAs(_shape, _strides, _offset);
}
