namespace Engine.Functions;

/// <summary>y[i][j] = x[i][index[i][j]] along one axis (PyTorch's gather), for constant indices.</summary>
/// <remarks>∂L/∂x = scatter-add of g at the same indices into zeros of x's shape.</remarks>
internal sealed class Gather(int axis, Tensor index) : UnaryFunction
{
    protected override Tensor Forward(Tensor x) => x.Gather(axis, index);

    protected override Variable?[] Backward(Variable g)
    {
        var zeros = new Variable(Tensor.Zeros(InputShape(0), g.DType, g.Device));
        return [zeros.ScatterAdd(axis, index, g)];
    }
}
