namespace Engine.Kernels;

public sealed unsafe partial class CpuBackend
{
    // A convolution's three products go to the algorithm Conv2dAlgorithms.Choose names for the geometry and
    // direction; each algorithm is one file in Cpu/Conv, and docs/engine-core.md says when each one wins.

    /// <inheritdoc/>
    public void Conv2dForward(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView w, in BufferView y, in ConvEpilogue epilogue)
    {
        if (dtype == DType.Float32)
            ConvForward((float*)Addr<float>(x), (float*)Addr<float>(w), (float*)Addr<float>(y), g, epilogue.Bias is { } b ? (float*)Addr<float>(b) : null,
                epilogue.Residual is { } r ? (float*)Addr<float>(r) : null, epilogue.Relu, w.Stamp);
        else if (dtype == DType.Float64)
            ConvForward((double*)Addr<double>(x), (double*)Addr<double>(w), (double*)Addr<double>(y), g, epilogue.Bias is { } b ? (double*)Addr<double>(b) : null,
                epilogue.Residual is { } r ? (double*)Addr<double>(r) : null, epilogue.Relu, w.Stamp);
        else throw Unsupported("Conv2d", dtype);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardInput(DType dtype, Conv2dGeometry g, in BufferView dy, in BufferView w, in BufferView dx)
    {
        if (dtype == DType.Float32) ConvBackwardInput((float*)Addr<float>(dy), (float*)Addr<float>(w), (float*)Addr<float>(dx), g, w.Stamp);
        else if (dtype == DType.Float64) ConvBackwardInput((double*)Addr<double>(dy), (double*)Addr<double>(w), (double*)Addr<double>(dx), g, w.Stamp);
        else throw Unsupported("Conv2dBackwardInput", dtype);
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(DType dtype, Conv2dGeometry g, in BufferView x, in BufferView dy, in BufferView dw)
    {
        if (dtype == DType.Float32) ConvBackwardWeight((float*)Addr<float>(x), (float*)Addr<float>(dy), (float*)Addr<float>(dw), g);
        else if (dtype == DType.Float64) ConvBackwardWeight((double*)Addr<double>(x), (double*)Addr<double>(dy), (double*)Addr<double>(dw), g);
        else throw Unsupported("Conv2dBackwardWeight", dtype);
    }

    // ws: the weights' stamp (BufferView.Stamp), so their packed form can be kept between calls (PackedWeights)
    private static void ConvForward<T>(T* x, T* w, T* y, Conv2dGeometry g, T* bias, T* residual, bool relu, long ws) where T : unmanaged
    {
        switch (Conv2dAlgorithms.Choose(g, ConvDirection.Forward))
        {
            case Conv2dAlgorithm.Direct: DirectConv.Forward(g, x, w, y, bias, relu, residual, ws); return;   // epilogue as tiles are stored
            case Conv2dAlgorithm.DirectBatch: DirectBatchConv.Forward(g, x, w, y, bias, relu, residual, ws); return;
            case Conv2dAlgorithm.WholePlane: WholePlaneConv.Forward(g, x, w, y); break;
            case Conv2dAlgorithm.SmallMaps: SmallMapsConv.Forward(g, x, w, y, ws, bias, relu, residual); return;
            case Conv2dAlgorithm.Pointwise: PointwiseConv.Forward(g, x, w, y, ws); break;
            default: Im2ColConv.Forward(g, x, w, y, ws); break;
        }
        Epilogue.Apply(g, y, bias, residual, relu);
    }

    private static void ConvBackwardInput<T>(T* dy, T* w, T* dx, Conv2dGeometry g, long ws) where T : unmanaged
    {
        switch (Conv2dAlgorithms.Choose(g, ConvDirection.BackwardInput))
        {
            case Conv2dAlgorithm.TransposedSmallMaps: TransposedConv.BackwardInput(g, dy, w, dx, Conv2dAlgorithm.SmallMaps); break;
            case Conv2dAlgorithm.TransposedDirect: TransposedConv.BackwardInput(g, dy, w, dx, Conv2dAlgorithm.Direct); break;
            case Conv2dAlgorithm.TransposedDirectBatch: TransposedConv.BackwardInput(g, dy, w, dx, Conv2dAlgorithm.DirectBatch); break;
            case Conv2dAlgorithm.SmallMaps: SmallMapsConv.BackwardInput(g, dy, w, dx, ws); break;
            case Conv2dAlgorithm.Pointwise: PointwiseConv.BackwardInput(g, dy, w, dx, ws); break;
            default: Im2ColConv.BackwardInput(g, dy, w, dx, ws); break;
        }
    }

    private static void ConvBackwardWeight<T>(T* x, T* dy, T* dw, Conv2dGeometry g) where T : unmanaged
    {
        switch (Conv2dAlgorithms.Choose(g, ConvDirection.BackwardWeight))
        {
            case Conv2dAlgorithm.SmallMaps: SmallMapsConv.BackwardWeight(g, x, dy, dw); break;
            case Conv2dAlgorithm.Direct: DirectConv.BackwardWeight(g, x, dy, dw); break;
            case Conv2dAlgorithm.Pointwise: PointwiseConv.BackwardWeight(g, x, dy, dw); break;
            default: Im2ColConv.BackwardWeight(g, x, dy, dw); break;
        }
    }
}
