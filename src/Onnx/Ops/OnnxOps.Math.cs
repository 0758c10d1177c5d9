namespace Engine.Onnx;

// Elementwise ops: activations, arithmetic with broadcasting (and the legacy axis form before opset 7),
// comparisons and logic. Float ops are autograd Variable calls, so imported graphs train; ops whose
// derivative is zero almost everywhere (Sign, Floor, comparisons) produce constants.
internal static partial class OnnxOps
{
    private static void RegisterMath(Dictionary<string, OpDef> ops)
    {
        ops["Identity"] = new(c => [c.X(0)]);
        ops["Relu"] = new(c => [c.X(0).Relu()]);
        ops["Sigmoid"] = new(c => [c.X(0).Sigmoid()]);
        ops["Tanh"] = new(c => [c.X(0).Tanh()]);
        ops["Exp"] = new(c => [c.X(0).Exp()]);
        ops["Log"] = new(c => [c.X(0).Log()]);
        ops["Sqrt"] = new(c => [c.X(0).Sqrt()]);
        ops["Abs"] = new(c => [Unary(c.X(0), v => v.Abs(), t => t.Abs())]);
        ops["Neg"] = new(c => [Unary(c.X(0), v => -v, t => t.Neg())]);
        ops["Erf"] = new(c => [c.X(0).Erf()]);
        ops["Sin"] = new(c => [c.X(0).Sin()]);
        ops["Cos"] = new(c => [c.X(0).Cos()]);
        ops["Tan"] = new(c => [c.X(0).Sin() / c.X(0).Cos()]);
        ops["Sinh"] = new(c => [(c.X(0).Exp() - (-c.X(0)).Exp()) * 0.5]);
        ops["Cosh"] = new(c => [(c.X(0).Exp() + (-c.X(0)).Exp()) * 0.5]);
        ops["Asinh"] = new(c =>
        {
            // sign(x)·log(|x| + √(x² + 1)): no cancellation for negative x
            var x = c.X(0);
            var a = x.Abs();
            var magnitude = (a + (a * a + 1.0).Sqrt()).Log();
            return [Variable.Where(x.Data.Lt(0), -magnitude, magnitude)];
        });
        ops["Acosh"] = new(c => [(c.X(0) + (c.X(0) * c.X(0) - 1.0).Sqrt()).Log()]);
        ops["Atanh"] = new(c => [((1.0 + c.X(0)) / (1.0 - c.X(0))).Log() * 0.5]);
        ops["Reciprocal"] = new(c => [1.0 / c.X(0)]);
        ops["Sign"] = new(c => [Constant(c.X(0).Data.Sign())]);
        ops["Floor"] = new(c => [Constant(c.X(0).Data.Floor())]);
        ops["Ceil"] = new(c => [Constant(c.X(0).Data.Ceil())]);
        ops["Round"] = new(c => [Constant(Map(c.X(0).Data, Math.Round))]);
        ops["IsNaN"] = new(c => [Constant(c.X(0).Data.Ne(c.X(0).Data))]);
        ops["IsInf"] = new(IsInf);
        ops["LeakyRelu"] = new(c => [c.X(0).LeakyRelu(c.Float("alpha", 0.01f))]);
        ops["Elu"] = new(c => [Elu(c.X(0), c.Float("alpha", 1f))]);
        ops["Selu"] = new(c => [Elu(c.X(0), c.Float("alpha", 1.67326319217681884765625f)) * c.Float("gamma", 1.05070102214813232421875f)]);
        ops["Celu"] = new(c =>
        {
            // max(0, x) + min(0, α(exp(x/α) − 1))
            var x = c.X(0);
            double alpha = c.Float("alpha", 1f);
            return [x.Relu() - (-(alpha * ((x / alpha).Exp() - 1.0))).Relu()];
        });
        ops["ThresholdedRelu"] = new(c =>
        {
            var x = c.X(0);
            return [Variable.Where(x.Data.Gt(c.Float("alpha", 1f)), x, Zero(x))];
        });
        ops["Softplus"] = new(c => [Softplus(c.X(0))]);
        ops["Softsign"] = new(c => [c.X(0) / (c.X(0).Abs() + 1.0)]);
        ops["HardSigmoid"] = new(c => [(c.X(0) * c.Float("alpha", 0.2f) + c.Float("beta", 0.5f)).Clamp(0, 1)]);
        ops["HardSwish"] = new(c => [c.X(0) * (c.X(0) * (1.0 / 6) + 0.5).Clamp(0, 1)]);
        ops["Mish"] = new(c => [c.X(0) * Softplus(c.X(0)).Tanh()]);
        ops["Gelu"] = new(c => c.String("approximate", "none") switch
        {
            "none" => [c.X(0).Gelu()],
            "tanh" => [c.X(0).Gelu(tanhApproximation: true)],
            var other => throw c.Error($"approximate '{other}' is not one of none, tanh"),
        });
        ops["Shrink"] = new(c =>
        {
            var x = c.X(0);
            double lambd = c.Float("lambd", 0.5f), bias = c.Float("bias", 0f);
            var zero = Zero(x);
            return [Variable.Where(x.Data.Lt(-lambd), x + bias, Variable.Where(x.Data.Gt(lambd), x - bias, zero))];
        });
        ops["PRelu"] = new(c =>
        {
            // relu(x) − slope·relu(−x): x where x > 0, slope·x elsewhere, with the slope broadcast to x
            var x = c.X(0);
            var slope = c.X(1);
            if (slope.Rank > x.Rank) throw c.Error($"the slope {Errors.Shape(slope.Shape)} has more dims than the input {Errors.Shape(x.Shape)}");
            return [x.Relu() - slope * (-x).Relu()];
        });
        ops["Clip"] = new(c =>
        {
            var x = c.X(0);
            double? min, max;
            if (c.Opset < 11)
            {
                min = c.Has("min") ? c.Float("min", 0) : null;
                max = c.Has("max") ? c.Float("max", 0) : null;
            }
            else { min = c.Scalar(1); max = c.Scalar(2); }
            if (min is null && max is null) return [x];
            if (!x.DType.IsFloating())
            {
                var t = x.Data;
                if (min is { } lo) t = t.Maximum(Tensor.Full([], lo, t.DType, t.Device));
                if (max is { } hi) t = t.Minimum(Tensor.Full([], hi, t.DType, t.Device));
                return [Constant(t)];
            }
            // max below min: every value becomes max (the ONNX reference applies min, then max)
            if (min is { } a && max is { } b && a > b) return [x.Clamp(a).Clamp(null, b)];
            return [x.Clamp(min, max)];
        });

        ops["Add"] = new(c => Arithmetic(c, (a, b) => a + b, (a, b) => a.Add(b)));
        ops["Sub"] = new(c => Arithmetic(c, (a, b) => a - b, (a, b) => a.Sub(b)));
        ops["Mul"] = new(c => Arithmetic(c, (a, b) => a * b, (a, b) => a.Mul(b)));
        ops["Div"] = new(c => Arithmetic(c, (a, b) => a / b, IntegerDivide));
        ops["Pow"] = new(Pow);
        ops["Mod"] = new(Mod);
        ops["Max"] = new(c => Variadic(c, (a, b) => a.Maximum(b), (a, b) => a.Maximum(b)));
        ops["Min"] = new(c => Variadic(c, (a, b) => a.Minimum(b), (a, b) => a.Minimum(b)));
        ops["Sum"] = new(c => Variadic(c, (a, b) => a + b, (a, b) => a.Add(b)));
        ops["Mean"] = new(c =>
        {
            var sum = Variadic(c, (a, b) => a + b, (a, b) => a.Add(b))[0];
            return [c.All.Count() == 1 ? sum : sum / c.All.Count()];
        });

        ops["Equal"] = new(c => Compare(c, (a, b) => a.Eq(b)));
        ops["Less"] = new(c => Compare(c, (a, b) => a.Lt(b)));
        ops["LessOrEqual"] = new(c => Compare(c, (a, b) => a.Le(b)));
        ops["Greater"] = new(c => Compare(c, (a, b) => a.Gt(b)));
        ops["GreaterOrEqual"] = new(c => Compare(c, (a, b) => a.Ge(b)));
        ops["Not"] = new(c => [Constant(Bool(c, 0).Eq(0))]);
        ops["And"] = new(c => Logic(c, (a, b) => Tensor.Where(a, b, Tensor.Zeros([], DType.Bool, a.Device))));
        ops["Or"] = new(c => Logic(c, (a, b) => Tensor.Where(a, Tensor.Ones([], DType.Bool, a.Device), b)));
        ops["Xor"] = new(c => Logic(c, (a, b) => a.Ne(b)));
        ops["Where"] = new(c =>
        {
            var cond = Bool(c, 0);
            var (a, b) = (c.X(1), c.X(2));
            if (a.DType != b.DType) throw c.Error($"the two branches are {a.DType.Name()} and {b.DType.Name()}");
            if (a.DType.IsFloating()) return [Variable.Where(cond, a, b)];
            return [Constant(Tensor.Where(cond, a.Data, b.Data))];
        });
    }

    /// <summary>A value with no gradient (integers, booleans, and floats whose derivative is zero almost everywhere).</summary>
    internal static Variable Constant(Tensor t) => new(t);

    private static Variable Zero(Variable like) => new(Tensor.Zeros([], like.DType, like.Device));

    private static Variable Unary(Variable x, Func<Variable, Variable> floating, Func<Tensor, Tensor> integer) =>
        x.DType.IsFloating() ? floating(x) : Constant(integer(x.Data));

    private static Variable Elu(Variable x, double alpha) =>
        // relu(x) + α(exp(min(x, 0)) − 1): x above 0, α(eˣ − 1) below
        x.Relu() + alpha * ((-(-x).Relu()).Exp() - 1.0);

    private static Variable Softplus(Variable x) =>
        // log(1 + eˣ) = relu(x) + log(1 + e^−|x|), which does not overflow
        x.Relu() + ((-x.Abs()).Exp() + 1.0).Log();

    private static Variable[] IsInf(OnnxCall c)
    {
        var x = c.X(0).Data;
        bool positive = c.Int("detect_positive", 1) != 0, negative = c.Int("detect_negative", 1) != 0;
        var none = Tensor.Zeros([.. x.Shape], DType.Bool, x.Device);
        var pos = positive ? x.Eq(double.PositiveInfinity) : none;
        var neg = negative ? x.Eq(double.NegativeInfinity) : none;
        return [Constant(Tensor.Where(pos, pos, neg))];
    }

    /// <summary>Input <paramref name="i"/> as a boolean tensor (the logic ops take bool only).</summary>
    private static Tensor Bool(OnnxCall c, int i)
    {
        var t = c.X(i).Data;
        return t.DType == DType.Bool ? t : throw c.Error($"input {i} is {t.DType.Name()}, not bool");
    }

    /// <summary>
    /// The two operands of a binary op: from opset 7 as they are (numpy broadcasting); before it, with
    /// <c>broadcast=1</c> the second is aligned with the first at <c>axis</c> (by default its trailing dims),
    /// and without it the shapes must be equal.
    /// </summary>
    private static (Variable A, Variable B) Operands(OnnxCall c)
    {
        var (a, b) = (c.X(0), c.X(1));
        if (c.Opset >= 7) return (a, b);
        if (c.Int("broadcast", 0) == 0)
        {
            if (!a.Shape.SequenceEqual(b.Shape))
                throw c.Error($"before opset 7 the operands must have one shape unless broadcast=1; they are {Errors.Shape(a.Shape)} and {Errors.Shape(b.Shape)}");
            return (a, b);
        }
        int axis = c.Has("axis") ? c.Axis(c.Long("axis", 0), a.Rank) : a.Rank - b.Rank;
        if (axis < 0 || axis + b.Rank > a.Rank)
            throw c.Error($"broadcast at axis {axis}: {Errors.Shape(b.Shape)} does not fit inside {Errors.Shape(a.Shape)}");
        for (int d = 0; d < b.Rank; d++)
            if (b.Shape[d] != a.Shape[axis + d] && b.Shape[d] != 1)
                throw c.Error($"broadcast at axis {axis}: {Errors.Shape(b.Shape)} does not match {Errors.Shape(a.Shape)}");
        return (a, b.Reshape([.. b.Shape, .. Enumerable.Repeat(1, a.Rank - axis - b.Rank)]));
    }

    private static Variable[] Arithmetic(OnnxCall c, Func<Variable, Variable, Variable> floating, Func<Tensor, Tensor, Tensor> integer)
    {
        var (a, b) = Operands(c);
        if (a.DType != b.DType) throw c.Error($"the operands are {a.DType.Name()} and {b.DType.Name()}; ONNX requires one type");
        return [a.DType.IsFloating() ? floating(a, b) : Constant(integer(a.Data, b.Data))];
    }

    /// <summary>Integer division truncates toward zero (C's rule, as ONNX Runtime does).</summary>
    private static Tensor IntegerDivide(Tensor a, Tensor b)
    {
        using var zero = b.Eq(0);
        using var any = zero.To(DType.Int64).Sum();
        if (any.ToArray<long>()[0] > 0) throw Errors.DTypeError("Div", "integer division by zero");
        return a.Div(b);
    }

    private static Variable[] Variadic(OnnxCall c, Func<Variable, Variable, Variable> floating, Func<Tensor, Tensor, Tensor> integer)
    {
        var inputs = c.All.ToList();
        if (inputs.Count == 0) throw c.Error("needs at least one input");
        if (inputs.Any(v => v.DType != inputs[0].DType)) throw c.Error($"the inputs mix {string.Join(", ", inputs.Select(v => v.DType.Name()).Distinct())}");
        if (inputs[0].DType.IsFloating())
        {
            var acc = inputs[0];
            foreach (var v in inputs.Skip(1)) acc = floating(acc, v);
            // one input: the result is still a new value of the broadcast shape
            return [acc];
        }
        var t = inputs[0].Data;
        foreach (var v in inputs.Skip(1)) t = integer(t, v.Data);
        return [Constant(t)];
    }

    private static Variable[] Compare(OnnxCall c, Func<Tensor, Tensor, Tensor> op)
    {
        var (a, b) = Operands(c);
        if (a.DType != b.DType) throw c.Error($"the operands are {a.DType.Name()} and {b.DType.Name()}; ONNX requires one type");
        return [Constant(op(a.Data, b.Data))];
    }

    private static Variable[] Logic(OnnxCall c, Func<Tensor, Tensor, Tensor> op)
    {
        var (a, b) = Operands(c);
        if (a.DType != DType.Bool || b.DType != DType.Bool) throw c.Error($"the operands are {a.DType.Name()} and {b.DType.Name()}, not bool");
        return [Constant(op(a.Data, b.Data))];
    }

    private static Variable[] Pow(OnnxCall c)
    {
        var (x, y) = Operands(c);
        if (x.DType.IsFloating())
        {
            // a constant scalar exponent (LayerNorm's x², written by exporters as Pow(x, 2)): the scalar power, where 2 is a square
            if (!y.RequiresGrad && y.Data.Numel == 1 && y.Rank <= x.Rank)
            {
                double e = y.Data.To(DType.Float64).Reshape(-1).ToArray<double>()[0];
                var shape = Broadcast(c, x.Shape, y.Shape);
                var r = x.Pow(e);
                return [shape.SequenceEqual(r.Shape.ToArray()) ? r : r.Reshape(shape)];
            }
            return [y.DType == x.DType ? x.Pow(y) : x.Pow(Constant(y.Data.To(x.DType)))];
        }
        // an integer base: computed in double, the result in the base's type (numpy's and ONNX Runtime's rule)
        using var xd = x.Data.To(DType.Float64);
        using var yd = y.Data.To(DType.Float64);
        using var p = xd.Pow(yd);
        return [Constant(p.To(x.DType))];
    }

    private static Variable[] Mod(OnnxCall c)
    {
        var (a, b) = Operands(c);
        if (a.DType != b.DType) throw c.Error($"the operands are {a.DType.Name()} and {b.DType.Name()}; ONNX requires one type");
        bool fmod = c.Int("fmod", 0) != 0;
        if (!fmod && a.DType.IsFloating()) throw c.Error("fmod=0 is for integers; floating inputs need fmod=1");
        var shape = Broadcast(c, a.Shape, b.Shape);
        using var ae = a.Data.Expand(shape).Contiguous();
        using var be = b.Data.Expand(shape).Contiguous();
        Tensor result;
        if (a.DType.IsFloating())
        {
            using var ad = ae.To(DType.Float64);
            using var bd = be.To(DType.Float64);
            double[] x = ad.ToArray<double>(), y = bd.ToArray<double>();
            var r = new double[x.Length];
            for (int i = 0; i < r.Length; i++) r[i] = x[i] % y[i]; // C's fmod: the sign of the dividend
            using var rd = Tensor.FromArray(r).Reshape(shape);
            result = rd.To(a.DType);
        }
        else
        {
            using var ad = ae.To(DType.Int64);
            using var bd = be.To(DType.Int64);
            long[] x = ad.ToArray<long>(), y = bd.ToArray<long>();
            var r = new long[x.Length];
            for (int i = 0; i < r.Length; i++)
            {
                if (y[i] == 0) throw c.Error("integer modulo by zero");
                long m = x[i] % y[i];
                if (!fmod && m != 0 && (m < 0) != (y[i] < 0)) m += y[i]; // Python's mod: the sign of the divisor
                r[i] = m;
            }
            using var rl = Tensor.FromArray(r).Reshape(shape);
            result = rl.To(a.DType);
        }
        using (result) return [Constant(result.To(a.Device))];
    }

    /// <summary>The numpy broadcast of two shapes (the engine's rule; its error names this node's op).</summary>
    internal static int[] Broadcast(OnnxCall c, ReadOnlySpan<int> a, ReadOnlySpan<int> b) => Tensor.BroadcastShapes(c.Node.OpType, a, b);

    /// <summary>A function applied to every value on the CPU (ops with no kernel of their own, on small tensors).</summary>
    private static Tensor Map(Tensor t, Func<double, double> f)
    {
        using var d = t.Contiguous().To(DType.Float64);
        var values = d.ToArray<double>();
        for (int i = 0; i < values.Length; i++) values[i] = f(values[i]);
        using var r = Tensor.FromArray(values).Reshape([.. t.Shape]);
        return r.To(t.DType).To(t.Device);
    }
}
