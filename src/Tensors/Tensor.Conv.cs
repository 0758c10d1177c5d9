using Engine.Kernels;

namespace Engine;

// Convolution and pooling over NCHW tensors. The shape rules are checked here, once, and the
// backend receives a geometry it can trust; operands are made contiguous first.
public sealed partial class Tensor
{
    private static Conv2dGeometry ConvGeometry(string op, ReadOnlySpan<int> x, ReadOnlySpan<int> w, Conv2dOptions o)
    {
        if (x.Length != 4) throw Errors.ShapeError(op, x, w, $"input must be [N, C, H, W] (rank 4), not rank {x.Length}");
        if (w.Length != 4) throw Errors.ShapeError(op, x, w, $"weight must be [K, C/groups, R, S] (rank 4), not rank {w.Length}");
        if (o.Groups < 1) throw Errors.ShapeError(op, x, w, $"groups {o.Groups} must be at least 1");
        if (o.Stride.H < 1 || o.Stride.W < 1) throw Errors.ShapeError(op, x, w, $"stride {o.Stride} must be at least 1");
        if (o.Dilation.H < 1 || o.Dilation.W < 1) throw Errors.ShapeError(op, x, w, $"dilation {o.Dilation} must be at least 1");
        if (o.Padding.AnyNegative) throw Errors.ShapeError(op, x, w, $"padding {o.Padding} must be non-negative");
        if (x[1] % o.Groups != 0 || w[0] % o.Groups != 0)
            throw Errors.ShapeError(op, x, w, $"{x[1]} input and {w[0]} output channels must both divide by groups {o.Groups}");
        if (w[1] != x[1] / o.Groups)
            throw Errors.ShapeError(op, x, w, $"weight expects {w[1]} input channels per group but the input has {x[1]} channels in {o.Groups} group(s)");
        var g = new Conv2dGeometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], o.Stride.H, o.Stride.W,
            o.Padding.Top, o.Padding.Left, o.Padding.Bottom, o.Padding.Right, o.Dilation.H, o.Dilation.W, o.Groups);
        if (g.OH < 1 || g.OW < 1 || g.H + g.PadTop + g.PadBottom < g.DilationH * (g.R - 1) + 1 || g.W + g.PadLeft + g.PadRight < g.DilationW * (g.S - 1) + 1)
            throw Errors.ShapeError(op, x, w, $"the {g.R}x{g.S} kernel (dilation {o.Dilation}) is larger than the padded {g.H}x{g.W} input");
        return g;
    }

    private static void CheckConvOperands(string op, Tensor a, Tensor b)
    {
        CheckOperands(op, a, b, Floats);
    }

    /// <summary>2-D convolution (cross-correlation, as in every framework) of this [N, C, H, W] input with weight [K, C/groups, R, S], plus bias [K].</summary>
    public Tensor Conv2d(Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(weight, bias, new Conv2dOptions { Stride = stride, Padding = padding, Dilation = dilation, Groups = groups });

    /// <summary>The output shape [N, K, OH, OW] of a convolution of <paramref name="input"/> by <paramref name="weight"/>-shaped weights (checked as <see cref="Conv2d(Tensor, Tensor?, Conv2dOptions)"/> checks them).</summary>
    public static int[] Conv2dOutputShape(ReadOnlySpan<int> input, ReadOnlySpan<int> weight, Conv2dOptions options) =>
        ConvGeometry("Conv2d", input, weight, options).OutputShape;

    /// <summary>2-D convolution with per-axis stride and dilation and per-side padding.</summary>
    public Tensor Conv2d(Tensor weight, Tensor? bias, Conv2dOptions options) => Conv2d(weight, bias, options, relu: false);

    /// <summary>
    /// max((conv + bias) + residual, 0): the convolution, its bias, a residual of the output's shape (a ResNet block's
    /// shortcut, optional) and a ReLU in one pass over the output (each value is finished as it is written), the same
    /// numbers as <c>(Conv2d(...) + residual).Relu()</c>. A tensor op: no gradient flows through it.
    /// </summary>
    public Tensor Conv2dRelu(Tensor weight, Tensor? bias, Conv2dOptions options, Tensor? residual = null) =>
        Conv2d(weight, bias, options, relu: true, residual);

    private Tensor Conv2d(Tensor weight, Tensor? bias, Conv2dOptions options, bool relu, Tensor? residual = null)
    {
        const string op = "Conv2d";
        CheckConvOperands(op, this, weight);
        var g = ConvGeometry(op, _shape, weight._shape, options);
        if (bias is not null)
        {
            CheckConvOperands(op, this, bias);
            if (bias.Rank != 1 || bias._shape[0] != g.K)
                throw Errors.ShapeError(op, _shape, weight._shape, bias._shape, $"bias must be [{g.K}], one value per output channel");
        }
        if (residual is not null)
        {
            CheckConvOperands(op, this, residual);
            if (!residual._shape.AsSpan().SequenceEqual(g.OutputShape))
                throw Errors.ShapeError(op, _shape, weight._shape, residual._shape, $"the residual must have the output's shape {Errors.Shape(g.OutputShape)}");
        }
        using var x = Contiguous();
        using var w = weight.Contiguous();
        using var b = bias?.Contiguous();
        using var r = residual?.Contiguous();
        var y = Empty(g.OutputShape, DType, Device);
        if (y.Numel == 0) return y;
        // the bias, a residual and a ReLU go with the product, applied as each output is written
        var epilogue = new ConvEpilogue(b?.BufferView(op), relu, r?.BufferView(op));
        if (g.Macs > 0) Backend.Conv2dForward(DType, g, x.BufferView(op), w.BufferView(op), y.BufferView(op), epilogue);
        else
        {
            // no taps (no input channels): the product is zero
            Backend.Fill(DType, 0, y.BufferView(op));
            epilogue.ApplyAsPasses(Backend, DType, g, y.BufferView(op));
        }
        return y;
    }

    /// <summary>∂L/∂input of a convolution, from ∂L/∂output and the weight.</summary>
    public static Tensor Conv2dBackwardInput(Tensor gradOutput, Tensor weight, int[] inputShape, Conv2dOptions options)
    {
        const string op = "Conv2dBackwardInput";
        CheckConvOperands(op, gradOutput, weight);
        var g = ConvGeometry(op, inputShape, weight._shape, options);
        CheckGradShape(op, gradOutput, g.OutputShape);
        using var dy = gradOutput.Contiguous();
        using var w = weight.Contiguous();
        var dx = Empty(g.InputShape, gradOutput.DType, gradOutput.Device);
        if (dx.Numel == 0) return dx;
        if (g.Macs > 0) dx.Backend.Conv2dBackwardInput(dx.DType, g, dy.BufferView(op), w.BufferView(op), dx.BufferView(op));
        else dx.Backend.Fill(dx.DType, 0, dx.BufferView(op));
        return dx;
    }

    /// <summary>∂L/∂weight of a convolution, from the input and ∂L/∂output.</summary>
    public static Tensor Conv2dBackwardWeight(Tensor input, Tensor gradOutput, int[] weightShape, Conv2dOptions options)
    {
        const string op = "Conv2dBackwardWeight";
        CheckConvOperands(op, input, gradOutput);
        var g = ConvGeometry(op, input._shape, weightShape, options);
        CheckGradShape(op, gradOutput, g.OutputShape);
        using var x = input.Contiguous();
        using var dy = gradOutput.Contiguous();
        var dw = Empty(g.WeightShape, input.DType, input.Device);
        if (dw.Numel == 0) return dw;
        if (g.Macs > 0) dw.Backend.Conv2dBackwardWeight(dw.DType, g, x.BufferView(op), dy.BufferView(op), dw.BufferView(op));
        else dw.Backend.Fill(dw.DType, 0, dw.BufferView(op));
        return dw;
    }

    private static void CheckGradShape(string op, Tensor grad, int[] expected)
    {
        if (!grad._shape.AsSpan().SequenceEqual(expected))
            throw Errors.ShapeError(op, grad._shape, expected, "the output gradient's shape differs from the output's");
    }

    private Pool2dGeometry PoolGeometry(string op, Pool2dOptions o, ReadOnlySpan<int> x)
    {
        if (x.Length != 4) throw Errors.ShapeError(op, x, $"input must be [N, C, H, W] (rank 4), not rank {x.Length}");
        var k = o.Kernel;
        var s = o.Stride ?? k;
        var p = o.Padding;
        if (k.H < 1 || k.W < 1) throw Errors.ShapeError(op, x, $"kernel {k} must be at least 1");
        if (s.H < 1 || s.W < 1) throw Errors.ShapeError(op, x, $"stride {s} must be at least 1");
        if (o.Dilation.H < 1 || o.Dilation.W < 1) throw Errors.ShapeError(op, x, $"dilation {o.Dilation} must be at least 1");
        if (p.AnyNegative) throw Errors.ShapeError(op, x, $"padding {p} must be non-negative");
        if (Math.Max(p.Top, p.Bottom) * 2 > k.H || Math.Max(p.Left, p.Right) * 2 > k.W)
            throw Errors.ShapeError(op, x, $"padding {p} must be at most half the kernel {k}");
        var g = new Pool2dGeometry(x[0], x[1], x[2], x[3], k.H, k.W, s.H, s.W, p.Top, p.Left, p.Bottom, p.Right,
            o.Dilation.H, o.Dilation.W, o.CeilMode, o.CountIncludePad);
        if (g.OH < 1 || g.OW < 1)
            throw Errors.ShapeError(op, x, $"the {k} window (dilation {o.Dilation}) is larger than the padded {x[2]}x{x[3]} input");
        return g;
    }

    private void CheckPoolInput(string op)
    {
        CheckAlive(op);
        CheckDType(op, DType.IsFloating(), Floats);
    }

    /// <summary>2-D max pooling of this [N, C, H, W] tensor; stride defaults to the kernel size.</summary>
    public Tensor MaxPool2d(Size2d kernel, Size2d? stride = null, int padding = 0) =>
        MaxPool2d(new Pool2dOptions(kernel) { Stride = stride, Padding = padding });

    /// <summary>2-D max pooling.</summary>
    public Tensor MaxPool2d(Pool2dOptions options) => MaxPool2d(options, withIndices: false).Values;

    /// <summary>2-D max pooling that also returns, per output, the Int64 flat index (within its H×W plane) of the maximum.</summary>
    public (Tensor Values, Tensor Indices) MaxPool2dWithIndices(Pool2dOptions options)
    {
        var (values, indices) = MaxPool2d(options, withIndices: true);
        return (values, indices!);
    }

    /// <summary>Max pooling, with the indices only when asked (the backend then skips them).</summary>
    private (Tensor Values, Tensor? Indices) MaxPool2d(Pool2dOptions options, bool withIndices)
    {
        const string op = "MaxPool2d";
        CheckPoolInput(op);
        var g = PoolGeometry(op, options, _shape);
        using var x = Contiguous();
        var y = Empty(g.OutputShape, DType, Device);
        var idx = withIndices ? Empty(g.OutputShape, DType.Int64, Device) : null;
        if (y.Numel > 0) Backend.MaxPool2dForward(DType, g, x.BufferView(op), y.BufferView(op), idx?.BufferView(op) ?? default);
        return (y, idx);
    }

    /// <summary>∂L/∂input of max pooling, routing each output gradient to its maximum.</summary>
    public static Tensor MaxPool2dBackward(Tensor gradOutput, Tensor indices, int[] inputShape, Pool2dOptions options)
    {
        const string op = "MaxPool2dBackward";
        gradOutput.CheckPoolInput(op);
        indices.CheckAlive(op);
        SameDevice(op, gradOutput, indices);
        if (indices.DType != DType.Int64) throw Errors.DTypeError(op, $"indices must be int64, not {indices.DType.Name()}");
        var g = gradOutput.PoolGeometry(op, options, inputShape);
        CheckGradShape(op, gradOutput, g.OutputShape);
        CheckGradShape(op, indices, g.OutputShape);
        using var dy = gradOutput.Contiguous();
        using var ix = indices.Contiguous();
        var dx = Empty(g.InputShape, gradOutput.DType, gradOutput.Device);
        if (dx.Numel > 0) dx.Backend.MaxPool2dBackward(dx.DType, g, dy.BufferView(op), ix.BufferView(op), dx.BufferView(op));
        return dx;
    }

    /// <summary>2-D average pooling of this [N, C, H, W] tensor; stride defaults to the kernel size.</summary>
    public Tensor AvgPool2d(Size2d kernel, Size2d? stride = null, int padding = 0, bool countIncludePad = true) =>
        AvgPool2d(new Pool2dOptions(kernel) { Stride = stride, Padding = padding, CountIncludePad = countIncludePad });

    /// <summary>2-D average pooling.</summary>
    public Tensor AvgPool2d(Pool2dOptions options)
    {
        const string op = "AvgPool2d";
        CheckPoolInput(op);
        var g = PoolGeometry(op, options, _shape);
        using var x = Contiguous();
        var y = Empty(g.OutputShape, DType, Device);
        if (y.Numel > 0) Backend.AvgPool2dForward(DType, g, x.BufferView(op), y.BufferView(op));
        return y;
    }

    /// <summary>∂L/∂input of average pooling.</summary>
    public static Tensor AvgPool2dBackward(Tensor gradOutput, int[] inputShape, Pool2dOptions options)
    {
        const string op = "AvgPool2dBackward";
        gradOutput.CheckPoolInput(op);
        var g = gradOutput.PoolGeometry(op, options, inputShape);
        CheckGradShape(op, gradOutput, g.OutputShape);
        using var dy = gradOutput.Contiguous();
        var dx = Empty(g.InputShape, gradOutput.DType, gradOutput.Device);
        if (dx.Numel > 0) dx.Backend.AvgPool2dBackward(dx.DType, g, dy.BufferView(op), dx.BufferView(op));
        return dx;
    }
}
