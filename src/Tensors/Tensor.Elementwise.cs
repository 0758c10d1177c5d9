using Engine.Kernels;

namespace Engine;

// Elementwise ops. Operands broadcast by NumPy's rule (align trailing dims; a size-1 or missing
// dim repeats), must share a dtype and a device, and the result is a new contiguous tensor.
public sealed partial class Tensor
{
    /// <summary>The broadcast shape of two shapes, or a ShapeException naming the op and both shapes.</summary>
    public static int[] BroadcastShapes(string op, ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int da = i <= a.Length ? a[^i] : 1, db = i <= b.Length ? b[^i] : 1;
            if (da != db && da != 1 && db != 1)
                throw Errors.ShapeError(op, a, b, $"sizes {da} and {db} at dim -{i} cannot be broadcast");
            result[^i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>A stride-0 view of this tensor at <paramref name="shape"/>, which it must broadcast to.</summary>
    internal Tensor BroadcastTo(string op, int[] shape)
    {
        CheckAlive(op);
        if (shape.Length < Rank) throw Errors.ShapeError(op, _shape, shape, "cannot broadcast to a lower rank");
        int lead = shape.Length - Rank;
        var strides = new long[shape.Length];
        for (int i = 0; i < Rank; i++)
        {
            int have = _shape[i], want = shape[lead + i];
            if (have == want) strides[lead + i] = _strides[i];
            else if (have != 1) throw Errors.ShapeError(op, _shape, shape, $"size {have} at dim {i} cannot be broadcast to {want}");
        }
        return ViewAs((int[])shape.Clone(), strides, _offset);
    }

    /// <summary>
    /// The check every op on two tensors starts with: both alive, on one device, of one dtype, and (when
    /// <paramref name="accepts"/> is given) that dtype one the op takes. Errors name the op and both operands.
    /// </summary>
    internal static void CheckOperands(string op, Tensor a, Tensor b, Func<DType, bool>? accepts = null)
    {
        a.CheckAlive(op);
        b.CheckAlive(op);
        SameDevice(op, a, b);
        SameDType(op, a, b);
        if (accepts is not null) a.CheckDType(op, accepts(a.DType), accepts);
    }

    internal static void SameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new DeviceException($"{op}: operands are on different devices, {a.Device} and {b.Device}; move one with To(device)");
    }

    internal static void SameDType(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw Errors.DTypeError(op, $"dtypes {a.DType.Name()} and {b.DType.Name()} differ; convert one with To(dtype)");
    }

    internal void CheckDType(string op, bool supported, Func<DType, bool> accepts)
    {
        if (!supported)
            throw Errors.DTypeError(op, $"dtype {DType.Name()} is not supported; {op} takes {OpSupport.Describe(accepts)}");
    }

    /// <summary>Floating dtypes only (float32, float64).</summary>
    internal static readonly Func<DType, bool> Floats = t => t.IsFloating();

    /// <summary>
    /// That <paramref name="op"/> takes this tensor's dtype, asked of the op table through <paramref name="supports"/>
    /// (<c>OpSupport.Supports</c>); the predicate for the message is built only when the check fails.
    /// </summary>
    private void CheckDType<TOp>(string name, TOp op, Func<TOp, DType, bool> supports)
    {
        if (!supports(op, DType)) ThrowUnsupported(name, op, supports);
    }

    private void ThrowUnsupported<TOp>(string name, TOp op, Func<TOp, DType, bool> supports) =>
        CheckDType(name, false, t => supports(op, t));

    internal Tensor Unary(UnaryOp op)
    {
        string name = op.ToString();
        CheckAlive(name);
        CheckDType(name, op, OpSupport.Supports);
        var y = Empty(_shape, DType, Device);
        if (Numel > 0) Backend.Unary(op, DType, BufferView(name), y.BufferView(name));
        GC.KeepAlive(this);
        return y;
    }

    /// <summary>
    /// Checks the operands and returns them at the broadcast shape: themselves when their shapes agree (no views
    /// made), else stride-0 views, which the caller disposes (<paramref name="views"/>).
    /// </summary>
    private static (Tensor A, Tensor B, int[] Shape) Prepare(string op, Tensor a, Tensor b, out bool views)
    {
        CheckOperands(op, a, b);
        views = !a._shape.AsSpan().SequenceEqual(b._shape);
        if (!views) return (a, b, a._shape);
        var shape = BroadcastShapes(op, a._shape, b._shape);
        return (a.BroadcastTo(op, shape), b.BroadcastTo(op, shape), shape);
    }

    internal static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        string name = op.ToString();
        var (va, vb, shape) = Prepare(name, a, b, out bool views);
        try
        {
            a.CheckDType(name, op, OpSupport.Supports);
            var y = Empty(shape, a.DType, a.Device);
            if (y.Numel > 0) a.Backend.Binary(op, a.DType, va.BufferView(name), vb.BufferView(name), y.BufferView(name));
            return y;
        }
        finally
        {
            if (views) { va.Dispose(); vb.Dispose(); }
        }
    }

    /// <summary>A rank-0 tensor of this tensor's dtype and device holding <paramref name="value"/>.</summary>
    private Tensor ScalarLike(string op, double value)
    {
        CheckAlive(op);
        if (DType.IsInteger() && value != Math.Floor(value))
            throw Errors.DTypeError(op, $"the scalar {value} has a fraction but the tensor is {DType.Name()}; convert the tensor with To(DType.Float32) first");
        return Full([], value, DType, Device);
    }

    private static Tensor Binary(BinaryOp op, Tensor a, double b)
    {
        using var s = a.ScalarLike(op.ToString(), b);
        return Binary(op, a, s);
    }

    private static Tensor Binary(BinaryOp op, double a, Tensor b)
    {
        using var s = b.ScalarLike(op.ToString(), a);
        return Binary(op, s, b);
    }

    private static Tensor Compare(CompareOp op, Tensor a, Tensor b)
    {
        string name = op.ToString();
        var (va, vb, shape) = Prepare(name, a, b, out bool views);
        try
        {
            a.CheckDType(name, op, OpSupport.Supports);
            var y = Empty(shape, DType.Bool, a.Device);
            if (y.Numel > 0) a.Backend.Compare(op, a.DType, va.BufferView(name), vb.BufferView(name), y.BufferView(name));
            return y;
        }
        finally
        {
            if (views) { va.Dispose(); vb.Dispose(); }
        }
    }

    private static Tensor Compare(CompareOp op, Tensor a, double b)
    {
        using var s = a.ScalarLike(op.ToString(), b);
        return Compare(op, a, s);
    }

    /// <summary>Writes op(this, other) into this tensor; other broadcasts to this shape.</summary>
    private Tensor BinaryInPlace(BinaryOp op, Tensor other, string name)
    {
        CheckOperands(name, this, other);
        CheckDType(name, op, OpSupport.Supports);
        using var vb = other.BroadcastTo(name, _shape);
        if (Numel > 0) Backend.Binary(op, DType, BufferView(name), vb.BufferView(name), BufferView(name));
        BumpVersion();
        return this;
    }

    private Tensor BinaryInPlace(BinaryOp op, double other, string name)
    {
        using var s = ScalarLike(name, other);
        return BinaryInPlace(op, s, name);
    }

    // ---- unary -------------------------------------------------------------------------

    /// <summary>-x</summary>
    public Tensor Neg() => Unary(UnaryOp.Neg);
    /// <summary>eˣ</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);
    /// <summary>ln x</summary>
    public Tensor Log() => Unary(UnaryOp.Log);
    /// <summary>√x</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    /// <summary>|x|</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);
    /// <summary>sign(x) ∈ {-1, 0, 1}</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);
    /// <summary>tanh x</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    /// <summary>σ(x) = 1/(1 + e⁻ˣ)</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    /// <summary>max(x, 0)</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu);
    /// <summary>erf x</summary>
    public Tensor Erf() => Unary(UnaryOp.Erf);
    /// <summary>1/x</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    /// <summary>x²</summary>
    public Tensor Square() => Unary(UnaryOp.Square);
    /// <summary>sin x</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);
    /// <summary>cos x</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);
    /// <summary>⌊x⌋</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);
    /// <summary>⌈x⌉</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);

    /// <summary>x for x &gt; 0, slope·x otherwise.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01)
    {
        using var positive = Compare(CompareOp.Gt, this, 0);
        using var scaled = this * negativeSlope;
        return Where(positive, this, scaled);
    }

    /// <summary>GELU: x·Φ(x) = ½x(1 + erf(x/√2)); with <paramref name="tanhApproximation"/>, ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public Tensor Gelu(bool tanhApproximation = false)
    {
        using var scope = Scope();
        Tensor inner;
        if (tanhApproximation)
        {
            var cube = this * this * this;
            inner = ((this + cube * 0.044715) * Math.Sqrt(2 / Math.PI)).Tanh();
        }
        else inner = (this * (1 / Math.Sqrt(2))).Erf();
        return scope.Keep(this * 0.5 * (inner + 1));
    }

    /// <summary>Values limited to [min, max] (either bound may be omitted); NaN stays NaN.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new EngineException("Clamp: give at least one of min and max");
        if (min is { } lo && max is { } hi && lo > hi) throw new EngineException($"Clamp: min {lo} is above max {hi}");
        using var scope = Scope();
        var y = min is { } mn ? Binary(BinaryOp.Max, this, mn) : Clone();
        if (max is { } mx) y = Binary(BinaryOp.Min, y, mx);
        return scope.Keep(y);
    }

    // ---- binary ------------------------------------------------------------------------

    /// <summary>a + b</summary>
    public Tensor Add(Tensor other) => Binary(BinaryOp.Add, this, other);
    /// <summary>a - b</summary>
    public Tensor Sub(Tensor other) => Binary(BinaryOp.Sub, this, other);
    /// <summary>a · b</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, this, other);
    /// <summary>a / b</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, this, other);
    /// <summary>aᵇ elementwise</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, this, exponent);
    /// <summary>aᵉ (e = 2 as a square: exact and without a power per element)</summary>
    public Tensor Pow(double exponent) => exponent == 2 && DType.IsFloating() ? Square() : Binary(BinaryOp.Pow, this, exponent);
    /// <summary>Elementwise max(a, b) (PyTorch's <c>maximum</c>); NaN if either is NaN.</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Max, this, other);
    /// <summary>Elementwise min(a, b) (PyTorch's <c>minimum</c>); NaN if either is NaN.</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Min, this, other);
    /// <summary>
    /// This gradient where <paramref name="input"/> &gt; 0, else 0: ReLU's backward in one pass
    /// (PyTorch's <c>threshold_backward</c> at 0). The two broadcast like any binary op.
    /// </summary>
    public Tensor ReluGrad(Tensor input) => Binary(BinaryOp.ReluGrad, this, input);

    /// <summary>a + b</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    /// <summary>a - b</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    /// <summary>a · b</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    /// <summary>a / b</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);
    /// <summary>a + s</summary>
    public static Tensor operator +(Tensor a, double s) => Binary(BinaryOp.Add, a, s);
    /// <summary>a - s</summary>
    public static Tensor operator -(Tensor a, double s) => Binary(BinaryOp.Sub, a, s);
    /// <summary>a · s</summary>
    public static Tensor operator *(Tensor a, double s) => Binary(BinaryOp.Mul, a, s);
    /// <summary>a / s</summary>
    public static Tensor operator /(Tensor a, double s) => Binary(BinaryOp.Div, a, s);
    /// <summary>s + b</summary>
    public static Tensor operator +(double s, Tensor b) => Binary(BinaryOp.Add, s, b);
    /// <summary>s - b</summary>
    public static Tensor operator -(double s, Tensor b) => Binary(BinaryOp.Sub, s, b);
    /// <summary>s · b</summary>
    public static Tensor operator *(double s, Tensor b) => Binary(BinaryOp.Mul, s, b);
    /// <summary>s / b</summary>
    public static Tensor operator /(double s, Tensor b) => Binary(BinaryOp.Div, s, b);
    /// <summary>-a</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    // ---- comparisons and selection ---------------------------------------------------------

    /// <summary>a == b as Bool</summary>
    public Tensor Eq(Tensor other) => Compare(CompareOp.Eq, this, other);
    /// <summary>a != b as Bool</summary>
    public Tensor Ne(Tensor other) => Compare(CompareOp.Ne, this, other);
    /// <summary>a &lt; b as Bool</summary>
    public Tensor Lt(Tensor other) => Compare(CompareOp.Lt, this, other);
    /// <summary>a &lt;= b as Bool</summary>
    public Tensor Le(Tensor other) => Compare(CompareOp.Le, this, other);
    /// <summary>a &gt; b as Bool</summary>
    public Tensor Gt(Tensor other) => Compare(CompareOp.Gt, this, other);
    /// <summary>a &gt;= b as Bool</summary>
    public Tensor Ge(Tensor other) => Compare(CompareOp.Ge, this, other);
    /// <summary>a == s as Bool</summary>
    public Tensor Eq(double s) => Compare(CompareOp.Eq, this, s);
    /// <summary>a != s as Bool</summary>
    public Tensor Ne(double s) => Compare(CompareOp.Ne, this, s);
    /// <summary>a &lt; s as Bool</summary>
    public Tensor Lt(double s) => Compare(CompareOp.Lt, this, s);
    /// <summary>a &lt;= s as Bool</summary>
    public Tensor Le(double s) => Compare(CompareOp.Le, this, s);
    /// <summary>a &gt; s as Bool</summary>
    public Tensor Gt(double s) => Compare(CompareOp.Gt, this, s);
    /// <summary>a &gt;= s as Bool</summary>
    public Tensor Ge(double s) => Compare(CompareOp.Ge, this, s);
    /// <summary>a &lt; b as Bool</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    /// <summary>a &gt; b as Bool</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    /// <summary>a &lt;= b as Bool</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    /// <summary>a &gt;= b as Bool</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);
    /// <summary>a &lt; s as Bool</summary>
    public static Tensor operator <(Tensor a, double s) => a.Lt(s);
    /// <summary>a &gt; s as Bool</summary>
    public static Tensor operator >(Tensor a, double s) => a.Gt(s);
    /// <summary>a &lt;= s as Bool</summary>
    public static Tensor operator <=(Tensor a, double s) => a.Le(s);
    /// <summary>a &gt;= s as Bool</summary>
    public static Tensor operator >=(Tensor a, double s) => a.Ge(s);

    /// <summary>condition ? a : b elementwise, all three broadcast together; condition must be Bool.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        const string op = "Where";
        condition.CheckAlive(op);
        if (condition.DType != DType.Bool)
            throw Errors.DTypeError(op, $"the condition must be bool, not {condition.DType.Name()}");
        CheckOperands(op, a, b);
        SameDevice(op, condition, a);
        var shape = BroadcastShapes(op, condition._shape, BroadcastShapes(op, a._shape, b._shape));
        using var c = condition.BroadcastTo(op, shape);
        using var xa = a.BroadcastTo(op, shape);
        using var xb = b.BroadcastTo(op, shape);
        var y = Empty(shape, a.DType, a.Device);
        if (y.Numel > 0) a.Backend.Where(a.DType, c.BufferView(op), xa.BufferView(op), xb.BufferView(op), y.BufferView(op));
        return y;
    }

    // ---- in place ----------------------------------------------------------------------------

    /// <summary>this += other (other broadcasts to this shape); returns this.</summary>
    public Tensor AddInPlace(Tensor other) => BinaryInPlace(BinaryOp.Add, other, "AddInPlace");
    /// <summary>this -= other; returns this.</summary>
    public Tensor SubInPlace(Tensor other) => BinaryInPlace(BinaryOp.Sub, other, "SubInPlace");
    /// <summary>this *= other; returns this.</summary>
    public Tensor MulInPlace(Tensor other) => BinaryInPlace(BinaryOp.Mul, other, "MulInPlace");
    /// <summary>this /= other; returns this.</summary>
    public Tensor DivInPlace(Tensor other) => BinaryInPlace(BinaryOp.Div, other, "DivInPlace");
    /// <summary>
    /// this = β·this + α·other in one pass (PyTorch's <c>add_(other, alpha)</c>, with a β for
    /// momentum-style updates); other broadcasts to this tensor's shape. Returns this.
    /// </summary>
    public Tensor AddInPlace(Tensor other, double alpha, double beta = 1)
    {
        const string name = "AddInPlace";
        CheckOperands(name, this, other, Floats);
        using var vx = other.BroadcastTo(name, _shape);
        if (Numel > 0) Backend.Axpby(DType, alpha, vx.BufferView(name), beta, BufferView(name));
        BumpVersion();
        return this;
    }

    /// <summary>this += s; returns this.</summary>
    public Tensor AddInPlace(double s) => BinaryInPlace(BinaryOp.Add, s, "AddInPlace");
    /// <summary>this *= s; returns this.</summary>
    public Tensor MulInPlace(double s) => BinaryInPlace(BinaryOp.Mul, s, "MulInPlace");

    /// <summary>Sets every element to <paramref name="value"/>; returns this.</summary>
    public Tensor FillInPlace(double value)
    {
        using var s = ScalarLike("FillInPlace", value);
        CopyFrom(s);
        return this;
    }

    /// <summary>Sets every element to zero; returns this.</summary>
    public Tensor ZeroInPlace() => FillInPlace(0);
}
