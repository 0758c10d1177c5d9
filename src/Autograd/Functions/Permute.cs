namespace Engine.Functions;

/// <summary>y = x with its dims reordered: y's dim i is x's dim perm[i].</summary>
/// <remarks>∂L/∂x = g permuted by the inverse permutation.</remarks>
internal sealed class Permute(int[] perm) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Permute(perm);

    protected override Variable?[] Backward(Variable g)
    {
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i] < 0 ? perm[i] + perm.Length : perm[i]] = i;
        return [g.Permute(inverse)];
    }
}
