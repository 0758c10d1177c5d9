namespace Engine.Functions;

/// <summary>y = min(max(x, lo), hi) (either bound optional).</summary>
/// <remarks>∂L/∂x = g · [lo ≤ x ≤ hi]   (the gradient passes at the bounds, as in PyTorch)</remarks>
internal sealed class Clamp(double? min, double? max) : UnaryFunction
{
    protected override Tensor Forward(Tensor x)
    {
        SaveInputs();
        return x.Clamp(min, max);
    }

    protected override Variable?[] Backward(Variable g)
    {
        var x = Saved(0).Data;
        Tensor mask;
        using (var scope = Tensor.Scope())
        {
            var inside = Tensor.OnesLike(x).To(DType.Bool);
            if (min is { } lo) inside = Tensor.Where(x >= lo, inside, Tensor.ZerosLike(inside));
            if (max is { } hi) inside = Tensor.Where(x <= hi, inside, Tensor.ZerosLike(inside));
            mask = scope.Keep(inside.To(x.DType));
        }
        return [g * mask];
    }
}
