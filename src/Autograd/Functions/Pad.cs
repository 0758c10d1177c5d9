namespace Engine.Functions;

/// <summary>y = x padded with a constant, pairs (before, after) from the last dim (negative amounts crop).</summary>
/// <remarks>∂L/∂x = g with the padding removed: padding with the negated amounts (the padded constant has no gradient).</remarks>
internal sealed class Pad(int[] pads, double value) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Pad(pads, value);

    protected override Variable?[] Backward(Variable g) => [g.Pad([.. pads.Select(p => -p)])];
}
