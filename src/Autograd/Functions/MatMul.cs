namespace Engine.Functions;

/// <summary>
/// Batched matrix product Z = A'·B' with A' = Aᵀ when transposeA (last two dims) and likewise B';
/// leading (batch) dims broadcast. Vector operands are handled by <see cref="Variable.MatMul"/>.
/// </summary>
/// <remarks>
///   ∂L/∂A' = G · B'ᵀ      so ∂L/∂A = G·B'ᵀ, or B'·Gᵀ when A was transposed
///   ∂L/∂B' = A'ᵀ · G      so ∂L/∂B = A'ᵀ·G, or Gᵀ·A' when B was transposed
/// (each summed back over broadcast batch dims)
/// </remarks>
internal sealed class MatMul(bool transposeA, bool transposeB) : BinaryFunction
{
    protected override Tensor Forward(Tensor a, Tensor b)
    {
        SaveInputs();
        return a.MatMul(b, transposeA, transposeB);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var a = Saved(0);
        var b = Saved(1);
        Variable? ga = null, gb = null;
        if (NeedsGrad(0))
            ga = (transposeA ? b.MatMul(g, transposeB, true) : g.MatMul(b, false, !transposeB)).SumTo(InputShape(0));
        if (NeedsGrad(1))
            gb = (transposeB ? g.MatMul(a, true, transposeA) : a.MatMul(g, !transposeA, false)).SumTo(InputShape(1));
        return [ga, gb];
    }
}
