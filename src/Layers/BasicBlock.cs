namespace Engine.Layers;

/// <summary>
/// ResNet's basic residual block (He et al. 2016): y = relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)),
/// two 3×3 convolutions, the first with the block's stride; the shortcut s is the identity, or a
/// 1×1 convolution + batch norm when the stride or the channel count changes.
/// </summary>
public sealed class BasicBlock : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _downsample;

    /// <summary>Creates the block.</summary>
    public BasicBlock(int inChannels, int outChannels, int stride = 1, DType dtype = DType.Float32, Generator? generator = null)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, 1, bias: false, dtype: dtype, generator: generator));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(outChannels, dtype: dtype));
        _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1, bias: false, dtype: dtype, generator: generator));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(outChannels, dtype: dtype));
        if (stride != 1 || inChannels != outChannels)
            _downsample = RegisterModule("downsample", new Sequential(
                new Conv2d(inChannels, outChannels, 1, stride, bias: false, dtype: dtype, generator: generator),
                new BatchNorm2d(outChannels, dtype: dtype)));
    }

    /// <inheritdoc/>
    public override Variable Forward(Variable x)
    {
        var h = _bn1.Call(_conv1.Call(x)).Relu();
        h = _bn2.Call(_conv2.Call(h));
        var shortcut = _downsample is null ? x : _downsample.Call(x);
        return (h + shortcut).Relu();
    }
}
