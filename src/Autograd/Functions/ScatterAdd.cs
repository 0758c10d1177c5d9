namespace Engine.Functions;

/// <summary>y = x with src added at the (constant) indices along one axis: y[i][index[i][j]] += src[i][j].</summary>
/// <remarks>
///   ∂L/∂x = g
///   ∂L/∂src = g gathered at the same indices
/// </remarks>
internal sealed class ScatterAdd(int axis, Tensor index) : BinaryFunction
{
    protected override Tensor Forward(Tensor x, Tensor src) => x.ScatterAdd(axis, index, src);

    protected override Variable?[] Backward(Variable g) =>
        [NeedsGrad(0) ? g : null,
         NeedsGrad(1) ? g.Gather(axis, index) : null];
}
