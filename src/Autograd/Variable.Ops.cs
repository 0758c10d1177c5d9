using Engine.Functions;
using F = Engine.Functions;

namespace Engine;

// The tensor surface, recorded: every method applies one Function from Functions/.
public partial class Variable
{
    private Variable Scalar(double value) => new(Tensor.Full([], value, DType, Device));

    /// <summary>Zeros with the shape, dtype and device of <paramref name="like"/> (a constant).</summary>
    public static Variable ZerosLike(Variable like) => new(Tensor.ZerosLike(like.Data));

    /// <summary>Ones with the shape, dtype and device of <paramref name="like"/> (a constant).</summary>
    public static Variable OnesLike(Variable like) => new(Tensor.OnesLike(like.Data));

    // ---- arithmetic ----------------------------------------------------------------------------

    /// <summary>a + b</summary>
    public static Variable operator +(Variable a, Variable b) => Apply(new F.Add(), a, b);
    /// <summary>a − b</summary>
    public static Variable operator -(Variable a, Variable b) => Apply(new F.Sub(), a, b);
    /// <summary>a · b</summary>
    public static Variable operator *(Variable a, Variable b) => Apply(new F.Mul(), a, b);
    /// <summary>a / b</summary>
    public static Variable operator /(Variable a, Variable b) => Apply(new F.Div(), a, b);
    /// <summary>−a</summary>
    public static Variable operator -(Variable a) => Apply(new F.Neg(), a);
    /// <summary>a + s</summary>
    public static Variable operator +(Variable a, double s) => a + a.Scalar(s);
    /// <summary>a − s</summary>
    public static Variable operator -(Variable a, double s) => a - a.Scalar(s);
    /// <summary>a · s</summary>
    public static Variable operator *(Variable a, double s) => a * a.Scalar(s);
    /// <summary>a / s</summary>
    public static Variable operator /(Variable a, double s) => a / a.Scalar(s);
    /// <summary>s + b</summary>
    public static Variable operator +(double s, Variable b) => b.Scalar(s) + b;
    /// <summary>s − b</summary>
    public static Variable operator -(double s, Variable b) => b.Scalar(s) - b;
    /// <summary>s · b</summary>
    public static Variable operator *(double s, Variable b) => b.Scalar(s) * b;
    /// <summary>s / b</summary>
    public static Variable operator /(double s, Variable b) => b.Scalar(s) / b;

    /// <summary>aᵇ elementwise.</summary>
    public Variable Pow(Variable exponent) => Apply(new F.Pow(), this, exponent);
    /// <summary>xᵖ for a constant p.</summary>
    public Variable Pow(double p) => Apply(new PowScalar(p), this);
    /// <summary>x²</summary>
    public Variable Square() => this * this;
    /// <summary>Elementwise max(a, b); ties split the gradient.</summary>
    public Variable Maximum(Variable other) => Apply(new F.Maximum(), this, other);
    /// <summary>Elementwise min(a, b); ties split the gradient.</summary>
    public Variable Minimum(Variable other) => Apply(new F.Minimum(), this, other);
    /// <summary>condition ? a : b elementwise, for a constant Bool condition.</summary>
    public static Variable Where(Tensor condition, Variable a, Variable b) => Apply(new F.Where(condition), a, b);

    // ---- unary ---------------------------------------------------------------------------------

    /// <summary>eˣ</summary>
    public Variable Exp() => Apply(new F.Exp(), this);
    /// <summary>ln x</summary>
    public Variable Log() => Apply(new F.Log(), this);
    /// <summary>√x</summary>
    public Variable Sqrt() => Apply(new F.Sqrt(), this);
    /// <summary>|x|</summary>
    public Variable Abs() => Apply(new F.Abs(), this);
    /// <summary>max(x, 0)</summary>
    public Variable Relu() => Apply(new F.Relu(), this);
    /// <summary>x for x &gt; 0, slope·x otherwise.</summary>
    public Variable LeakyRelu(double negativeSlope = 0.01) => Apply(new F.LeakyRelu(negativeSlope), this);
    /// <summary>σ(x)</summary>
    public Variable Sigmoid() => Apply(new F.Sigmoid(), this);
    /// <summary>tanh x</summary>
    public Variable Tanh() => Apply(new F.Tanh(), this);
    /// <summary>erf x</summary>
    public Variable Erf() => Apply(new F.Erf(), this);
    /// <summary>sin x, elementwise (radians).</summary>
    public Variable Sin() => Apply(new F.Sin(), this);
    /// <summary>cos x, elementwise (radians).</summary>
    public Variable Cos() => Apply(new F.Cos(), this);
    /// <summary>GELU, exact or with the tanh approximation.</summary>
    public Variable Gelu(bool tanhApproximation = false) => Apply(new F.Gelu(tanhApproximation), this);
    /// <summary>x limited to [min, max].</summary>
    public Variable Clamp(double? min = null, double? max = null) => Apply(new F.Clamp(min, max), this);

    // ---- reductions ----------------------------------------------------------------------------

    /// <summary>Σ over all elements.</summary>
    public Variable Sum() => Sum([]);
    /// <summary>Σ along one axis.</summary>
    public Variable Sum(int axis, bool keepDim = false) => Sum([axis], keepDim);
    /// <summary>Σ along the given axes (all when empty).</summary>
    public Variable Sum(int[] axes, bool keepDim = false) => Apply(new F.Sum(axes, keepDim), this);
    /// <summary>The mean of all elements.</summary>
    public Variable Mean() => Mean([]);
    /// <summary>The mean along one axis.</summary>
    public Variable Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);
    /// <summary>The mean along the given axes.</summary>
    public Variable Mean(int[] axes, bool keepDim = false) => Apply(new F.Mean(axes, keepDim), this);
    /// <summary>The largest element; the gradient is shared among ties.</summary>
    public Variable Max() => Max([]);
    /// <summary>The largest elements along the given axes; the gradient is shared among ties.</summary>
    public Variable Max(int[] axes, bool keepDim = false) => Apply(new F.Max(axes, keepDim), this);
    /// <summary>The smallest element.</summary>
    public Variable Min() => Min([]);
    /// <summary>The smallest elements along the given axes.</summary>
    public Variable Min(int[] axes, bool keepDim = false) => Apply(new F.Min(axes, keepDim), this);

    /// <summary>The maximum along one axis with its Int64 indices (PyTorch's <c>max(dim)</c>); the gradient goes to the index.</summary>
    public (Variable Values, Tensor Indices) Max(int axis, bool keepDim = false) => AlongAxis(axis, keepDim, min: false);

    /// <summary>The minimum along one axis with its Int64 indices.</summary>
    public (Variable Values, Tensor Indices) Min(int axis, bool keepDim = false) => AlongAxis(axis, keepDim, min: true);

    private (Variable, Tensor) AlongAxis(int axis, bool keepDim, bool min)
    {
        var f = new MaxAlongAxis(axis, keepDim, min);
        var v = Apply(f, this);
        return (v, f.Indices!);
    }

    /// <summary>The variance of all elements (correction 1: Bessel's); for another correction use <c>Var([], correction: 0)</c>.</summary>
    public Variable Var() => Var([]);
    /// <summary>The variance along one axis; <c>x.Var(1)</c> is per row of a matrix, as PyTorch's <c>x.var(1)</c>.</summary>
    public Variable Var(int axis, bool keepDim = false, int correction = 1) => Var([axis], keepDim, correction);
    /// <summary>The variance along the given axes (all when empty), Σ(x − x̄)² / (n − <paramref name="correction"/>).</summary>
    public Variable Var(int[] axes, bool keepDim = false, int correction = 1) => Apply(new F.Var(axes, correction, keepDim), this);
    /// <summary>The standard deviation of all elements, √Var (correction 1).</summary>
    public Variable Std() => Std([]);
    /// <summary>The standard deviation along one axis, √Var.</summary>
    public Variable Std(int axis, bool keepDim = false, int correction = 1) => Std([axis], keepDim, correction);
    /// <summary>The standard deviation along the given axes (all when empty), √Var.</summary>
    public Variable Std(int[] axes, bool keepDim = false, int correction = 1) => Var(axes, keepDim, correction).Sqrt();
    /// <summary>ln Σ eˣ along the given axes, stably.</summary>
    public Variable LogSumExp(int[] axes, bool keepDim = false) => Apply(new F.LogSumExp(axes, keepDim), this);
    /// <summary>ln Σ eˣ along one axis.</summary>
    public Variable LogSumExp(int axis, bool keepDim = false) => LogSumExp([axis], keepDim);
    /// <summary>Softmax along one axis.</summary>
    public Variable Softmax(int axis) => Apply(new F.Softmax(axis), this);
    /// <summary>Log-softmax along one axis.</summary>
    public Variable LogSoftmax(int axis) => Apply(new F.LogSoftmax(axis), this);

    // ---- linear algebra, convolution, pooling --------------------------------------------------

    /// <summary>Matrix product with PyTorch's rules (vectors gain and lose a unit dim; batch dims broadcast).</summary>
    public Variable MatMul(Variable other, bool transposeA = false, bool transposeB = false)
    {
        if (Rank == 1 || other.Rank == 1)
        {
            if (transposeA || transposeB)
                throw Errors.ShapeError("MatMul", Shape, other.Shape, "a transposed operand needs at least two dims");
            var a = Rank == 1 ? Unsqueeze(0) : this;
            var b = other.Rank == 1 ? other.Unsqueeze(1) : other;
            var y = a.MatMul(b);
            if (other.Rank == 1) y = y.Squeeze(-1);
            if (Rank == 1) y = y.Squeeze(other.Rank == 1 ? -1 : -2);
            return y;
        }
        return Apply(new F.MatMul(transposeA, transposeB), this, other);
    }

    /// <summary>2-D convolution of this [N, C, H, W] input with weight [K, C/groups, R, S] and optional bias [K].</summary>
    public Variable Conv2d(Variable weight, Variable? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(weight, bias, new Conv2dOptions { Stride = stride, Padding = padding, Dilation = dilation, Groups = groups });

    /// <summary>2-D convolution with per-axis stride and dilation and per-side padding.</summary>
    public Variable Conv2d(Variable weight, Variable? bias, Conv2dOptions options) =>
        bias is null ? Apply(new F.Conv2d(options), this, weight) : Apply(new F.Conv2d(options), this, weight, bias);

    /// <summary>
    /// 2-D transposed convolution (the adjoint of <see cref="Conv2d(Variable, Variable?, Conv2dOptions)"/>) of this
    /// [N, C, H, W] input with weight [C, K/groups, R, S] and optional bias [K], to <paramref name="outputShape"/>
    /// [N, K, H', W']: the options are those of the convolution that maps [N, K, H', W'] back to this input's shape.
    /// </summary>
    public Variable ConvTranspose2d(Variable weight, Variable? bias, int[] outputShape, Conv2dOptions options)
    {
        var y = Apply(new F.Conv2dInputGrad(outputShape, options), this, weight);
        return bias is null ? y : y + bias.Reshape(-1, 1, 1);
    }

    /// <summary>This value as another floating type; gradients flow back cast to this one's type.</summary>
    public Variable To(DType dtype) => dtype == DType ? this : Apply(new F.Cast(dtype), this);

    /// <summary>2-D max pooling.</summary>
    public Variable MaxPool2d(Pool2dOptions options) => Apply(new F.MaxPool2d(options), this);
    /// <summary>2-D max pooling; stride defaults to the kernel.</summary>
    public Variable MaxPool2d(Size2d kernel, Size2d? stride = null, int padding = 0) =>
        MaxPool2d(new Pool2dOptions(kernel) { Stride = stride, Padding = padding });
    /// <summary>2-D average pooling.</summary>
    public Variable AvgPool2d(Pool2dOptions options) => Apply(new F.AvgPool2d(options), this);
    /// <summary>2-D average pooling; stride defaults to the kernel.</summary>
    public Variable AvgPool2d(Size2d kernel, Size2d? stride = null, int padding = 0, bool countIncludePad = true) =>
        AvgPool2d(new Pool2dOptions(kernel) { Stride = stride, Padding = padding, CountIncludePad = countIncludePad });
    /// <summary>Mean over H and W of [N, C, H, W], keeping [N, C, 1, 1].</summary>
    public Variable GlobalAvgPool2d() => Apply(new F.GlobalAvgPool2d(), this);

    // ---- indexing --------------------------------------------------------------------------------

    /// <summary>Slices at the (1-D) indices along one axis.</summary>
    public Variable IndexSelect(int axis, Tensor index) => Apply(new F.IndexSelect(axis, index), this);
    /// <summary>PyTorch's gather along one axis.</summary>
    public Variable Gather(int axis, Tensor index) => Apply(new F.Gather(axis, index), this);
    /// <summary>This plus src added at the indices along one axis.</summary>
    public Variable ScatterAdd(int axis, Tensor index, Variable src) => Apply(new F.ScatterAdd(axis, index), this, src);

    // ---- views -----------------------------------------------------------------------------------

    /// <summary>The same elements in a new shape (one size may be -1).</summary>
    public Variable Reshape(params int[] shape) => Apply(new F.Reshape(shape), this);
    /// <summary>Same as <see cref="Reshape"/>.</summary>
    public Variable View(params int[] shape) => Reshape(shape);
    /// <summary>Dims reordered.</summary>
    public Variable Permute(params int[] dims) => Apply(new F.Permute(dims), this);
    /// <summary>Two dims exchanged.</summary>
    public Variable Transpose(int dim0, int dim1) => Apply(new F.Transpose(dim0, dim1), this);
    /// <summary>The transpose of a matrix (rank 2).</summary>
    public Variable T => Rank == 2 ? Transpose(0, 1) : throw Errors.ShapeError("T", Shape, "needs a rank-2 variable; use Transpose or Permute");
    /// <summary>x[start:end:step] along one axis.</summary>
    public Variable Slice(int dim, int start, int end, int step = 1) => Apply(new F.Slice(dim, start, end, step), this);
    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along one axis.</summary>
    public Variable Narrow(int dim, int start, int length)
    {
        int s = start < 0 ? start + Size(dim) : start;
        if (s < 0 || length < 0 || s + length > Size(dim))
            throw Errors.ShapeError("Narrow", Shape, $"start {start} and length {length} do not fit in axis {dim} of size {Size(dim)}");
        return Slice(dim, s, s + length);
    }
    /// <summary>The sub-tensor at one index, with that dim removed.</summary>
    public Variable Select(int dim, int index)
    {
        int d = dim < 0 ? dim + Rank : dim;
        int i = index < 0 ? index + Size(d) : index;
        if (i < 0 || i >= Size(d))
            throw Errors.IndexError("Select", Shape, $"index {index} is out of range for axis {dim} of size {Size(d)}");
        return Slice(d, i, i + 1).Squeeze(d);
    }
    /// <summary>Broadcast to a larger shape.</summary>
    public Variable Expand(params int[] shape) => Apply(new F.Expand(shape), this);
    /// <summary>Summed down to a shape that broadcasts to this one (the adjoint of broadcasting).</summary>
    public Variable SumTo(params int[] shape) => Shape.SequenceEqual(shape) ? this : Apply(new F.SumTo(shape), this);
    /// <summary>Size-1 dims removed (all, or the given ones).</summary>
    public Variable Squeeze(params int[] dims) => Apply(new F.Squeeze(dims), this);
    /// <summary>A size-1 dim inserted.</summary>
    public Variable Unsqueeze(int dim) => Apply(new F.Unsqueeze(dim), this);
    /// <summary>Dims start…end merged.</summary>
    public Variable Flatten(int startDim = 0, int endDim = -1)
    {
        using var probe = Data.Flatten(startDim, endDim);
        return Reshape(probe.Shape.ToArray());
    }
    /// <summary>The same values in dense memory.</summary>
    public Variable Contiguous() => Apply(new F.Contiguous(), this);
    /// <summary>Constant padding, F.pad order (pairs from the last dim); negative amounts crop.</summary>
    /// <param name="pads">Last dim first: left, right, top, bottom, …, not <see cref="Padding2d"/>'s order (<see cref="Padding2d.ToPad"/> converts).</param>
    /// <param name="value">The value of the added elements.</param>
    public Variable Pad(int[] pads, double value = 0) => Apply(new F.Pad(pads, value), this);
    /// <summary>Variables joined along an axis.</summary>
    public static Variable Concat(IReadOnlyList<Variable> variables, int axis = 0) => Apply(new F.Concat(axis), [.. variables]);
    /// <summary>Variables of one shape stacked along a new axis.</summary>
    public static Variable Stack(IReadOnlyList<Variable> variables, int axis = 0) => Apply(new F.Stack(axis), [.. variables]);
}
