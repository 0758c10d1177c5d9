namespace Engine;

/// <summary>One gradient check: a function, how to make its float64 inputs, and whether to check second order too.</summary>
/// <param name="Name">The Function it exercises (its file under src/Autograd/Functions).</param>
/// <param name="Variant">Which case: same shape, broadcast, non-contiguous, an option.</param>
/// <param name="Inputs">Makes the inputs (deterministic).</param>
/// <param name="Function">The function of the inputs' variables.</param>
/// <param name="SecondOrder">Also run <see cref="GradCheck.RunGradGrad"/>.</param>
public sealed record GradCheckCase(string Name, string Variant, Func<Tensor[]> Inputs, Func<Variable[], Variable> Function, bool SecondOrder)
{
    /// <summary>Name/variant.</summary>
    public override string ToString() => $"{Name}/{Variant}";
}

/// <summary>
/// Every differentiable function with sample inputs: the table <c>engine gradcheck --all</c> and the
/// tests run. Inputs keep away from kinks and poles (|x| ≥ 0.1 where a derivative jumps at 0, x &gt; 0.2
/// under logarithms and square roots, distinct values where a maximum is taken).
/// </summary>
public static class GradCheckCatalog
{
    private static Tensor U(int seed, double lo, double hi, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++) v[i] = lo + (hi - lo) * rng.NextDouble();
        using var flat = Tensor.FromArray(v);
        return flat.Reshape(shape);
    }

    /// <summary>Values with |x| in [0.1, 2], random signs: away from the kink at 0.</summary>
    private static Tensor AwayFromZero(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++) v[i] = (0.1 + 1.9 * rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1);
        using var flat = Tensor.FromArray(v);
        return flat.Reshape(shape);
    }

    /// <summary>A non-contiguous tensor of the given 2-D shape: the transpose of a [cols, rows] tensor.</summary>
    private static Tensor Transposed(Tensor t)
    {
        using var c = t.Transpose(0, 1).Contiguous();
        return c.Transpose(0, 1);
    }

    private static Tensor Longs(params long[] v) => Tensor.FromArray(v);

    private static IEnumerable<GradCheckCase> Binary(string name, Func<Variable, Variable, Variable> op, double lo, double hi, double loB, double hiB, bool second = true)
    {
        yield return new(name, "same shape", () => [U(1, lo, hi, 3, 4), U(2, loB, hiB, 3, 4)], v => op(v[0], v[1]), second);
        yield return new(name, "broadcast", () => [U(3, lo, hi, 2, 1, 3), U(4, loB, hiB, 4, 1)], v => op(v[0], v[1]), second);
        yield return new(name, "non-contiguous", () => [Transposed(U(5, lo, hi, 3, 4)), U(6, loB, hiB, 4)], v => op(v[0], v[1]), second);
    }

    private static IEnumerable<GradCheckCase> Unary(string name, Func<Variable, Variable> op, Func<int, int[], Tensor> input, bool second = true)
    {
        yield return new(name, "matrix", () => [input(11, [3, 4])], v => op(v[0]), second);
        yield return new(name, "non-contiguous", () => [Transposed(input(12, [4, 3]))], v => op(v[0]), second);
    }

    private static Func<int, int[], Tensor> Range(double lo, double hi) => (seed, shape) => U(seed, lo, hi, shape);

    private static readonly Func<int, int[], Tensor> Kinked = (seed, shape) => AwayFromZero(seed, shape);

    /// <summary>∂/∂x Σ relu(x)·g, which runs ReluBackward(g, x); recorded when g is (x only reads its sign).</summary>
    private static Variable ReluGradient(Variable g, Variable x)
    {
        var leaf = x.RequiresGrad ? x : new Variable(x.Data, requiresGrad: true);
        using (GradMode.EnableGrad())
            return Autograd.Grad([(leaf.Relu() * g).Sum()], [leaf], createGraph: g.RequiresGrad || x.RequiresGrad)[0];
    }

    /// <summary>All the cases.</summary>
    public static IReadOnlyList<GradCheckCase> All { get; } = Build().ToList();

    private static IEnumerable<GradCheckCase> Build()
    {
        // elementwise
        foreach (var c in Binary("Add", (a, b) => a + b, -2, 2, -2, 2)) yield return c;
        foreach (var c in Binary("Sub", (a, b) => a - b, -2, 2, -2, 2)) yield return c;
        foreach (var c in Binary("Mul", (a, b) => a * b, -2, 2, -2, 2)) yield return c;
        foreach (var c in Binary("Div", (a, b) => a / b, -2, 2, 0.5, 2)) yield return c;
        foreach (var c in Binary("Pow", (a, b) => a.Pow(b), 0.5, 2, -1.5, 1.5)) yield return c;
        yield return new("Maximum", "same shape", () => [U(21, -2, 0, 3, 4), U(22, 0.1, 2, 3, 4)], v => v[0].Maximum(v[1]), true);
        yield return new("Maximum", "broadcast", () => [AwayFromZero(23, 3, 4), Tensor.Zeros([4], DType.Float64)], v => v[0].Maximum(v[1]), true);
        yield return new("Minimum", "same shape", () => [U(24, -2, 0, 3, 4), U(25, 0.1, 2, 3, 4)], v => v[0].Minimum(v[1]), true);
        yield return new("Minimum", "broadcast", () => [AwayFromZero(26, 2, 3), Tensor.Zeros([2, 1], DType.Float64)], v => v[0].Minimum(v[1]), true);
        foreach (var c in Unary("Neg", x => -x, Range(-2, 2))) yield return c;
        foreach (var c in Unary("Exp", x => x.Exp(), Range(-2, 2))) yield return c;
        foreach (var c in Unary("Log", x => x.Log(), Range(0.2, 3))) yield return c;
        foreach (var c in Unary("Sqrt", x => x.Sqrt(), Range(0.2, 3))) yield return c;
        foreach (var c in Unary("Abs", x => x.Abs(), Kinked)) yield return c;
        foreach (var c in Unary("Relu", x => x.Relu(), Kinked)) yield return c;
        // ReLU's gradient as a function of the upstream gradient g and the input x: ∂/∂x Σ relu(x)·g
        yield return new("ReluBackward", "of g and x", () => [U(13, -2, 2, 3, 4), AwayFromZero(14, 3, 4)],
            v => ReluGradient(v[0], v[1]), true);
        foreach (var c in Unary("LeakyRelu", x => x.LeakyRelu(0.2), Kinked)) yield return c;
        foreach (var c in Unary("Sigmoid", x => x.Sigmoid(), Range(-3, 3))) yield return c;
        foreach (var c in Unary("Tanh", x => x.Tanh(), Range(-2, 2))) yield return c;
        foreach (var c in Unary("Erf", x => x.Erf(), Range(-2, 2))) yield return c;
        foreach (var c in Unary("Sin", x => x.Sin(), Range(-3, 3))) yield return c;
        foreach (var c in Unary("Cos", x => x.Cos(), Range(-3, 3))) yield return c;
        foreach (var c in Unary("Gelu", x => x.Gelu(), Range(-3, 3))) yield return c;
        yield return new("Gelu", "tanh approximation", () => [U(31, -3, 3, 3, 4)], v => v[0].Gelu(tanhApproximation: true), true);
        // float64 → float64 (the float32 round trip rounds away the finite-difference step; CastAndConvTransposeTests checks it)
        yield return new("Cast", "to the same type", () => [U(38, -2, 2, 3, 4)], v => Variable.Apply(new Functions.Cast(DType.Float64), v[0]) * v[0], true);
        yield return new("Clamp", "both bounds", () => [AwayFromZero(32, 3, 4) * 0.9], v => v[0].Clamp(-0.5, 1.05), true);
        yield return new("Clamp", "min only", () => [AwayFromZero(33, 3, 4)], v => v[0].Clamp(min: 0.05), true);
        yield return new("PowScalar", "p = 2.5", () => [U(34, 0.2, 2, 3, 4)], v => v[0].Pow(2.5), true);
        yield return new("PowScalar", "p = 3, negative base", () => [U(35, -2, 2, 3, 4)], v => v[0].Pow(3), true);
        yield return new("Where", "broadcast", () => [U(36, -2, 2, 3, 4), U(37, -2, 2, 4)],
            v => Variable.Where(Tensor.FromArray(new[] { true, false, true }).Reshape(3, 1), v[0], v[1]), true);

        // reductions
        yield return new("Sum", "all", () => [U(41, -2, 2, 3, 4)], v => v[0].Sum(), true);
        yield return new("Sum", "axes 0, 2 keepdim", () => [U(42, -2, 2, 2, 3, 4)], v => v[0].Sum([0, 2], keepDim: true), true);
        yield return new("Sum", "non-contiguous axis 1", () => [Transposed(U(43, -2, 2, 4, 3))], v => v[0].Sum(1), true);
        yield return new("Mean", "axis -1", () => [U(44, -2, 2, 3, 4)], v => v[0].Mean(-1), true);
        yield return new("Mean", "all", () => [U(45, -2, 2, 2, 3, 2)], v => v[0].Mean(), true);
        yield return new("Max", "axis 1", () => [U(46, -2, 2, 3, 5)], v => v[0].Max([1]), true);
        yield return new("Max", "all", () => [U(47, -2, 2, 3, 4)], v => v[0].Max(), true);
        yield return new("Min", "axes 0, 1 keepdim", () => [U(48, -2, 2, 3, 4, 2)], v => v[0].Min([0, 1], keepDim: true), true);
        yield return new("MaxAlongAxis", "max, axis 1", () => [U(49, -2, 2, 3, 5)], v => v[0].Max(1).Values, true);
        yield return new("MaxAlongAxis", "min, axis 0 keepdim", () => [U(50, -2, 2, 4, 3)], v => v[0].Min(0, keepDim: true).Values, true);
        yield return new("Var", "axis 1", () => [U(51, -2, 2, 3, 5)], v => v[0].Var([1]), true);
        yield return new("Var", "all, population", () => [U(52, -2, 2, 2, 3)], v => v[0].Var([], correction: 0), true);
        yield return new("LogSumExp", "axis 1", () => [U(53, -2, 2, 3, 5)], v => v[0].LogSumExp(1), true);
        yield return new("LogSumExp", "axes 0, 2 keepdim", () => [U(54, -2, 2, 2, 3, 2)], v => v[0].LogSumExp([0, 2], keepDim: true), true);
        yield return new("Softmax", "axis 1", () => [U(55, -2, 2, 3, 5)], v => v[0].Softmax(1), true);
        yield return new("Softmax", "axis 0, non-contiguous", () => [Transposed(U(56, -2, 2, 5, 3))], v => v[0].Softmax(0), true);
        yield return new("LogSoftmax", "axis 1", () => [U(57, -2, 2, 3, 5)], v => v[0].LogSoftmax(1), true);
        yield return new("LogSoftmax", "axis -1, rank 3", () => [U(58, -2, 2, 2, 2, 3)], v => v[0].LogSoftmax(-1), true);

        // linear algebra, convolution, pooling
        yield return new("MatMul", "matrices", () => [U(61, -1, 1, 3, 4), U(62, -1, 1, 4, 5)], v => v[0].MatMul(v[1]), true);
        yield return new("MatMul", "batched broadcast", () => [U(63, -1, 1, 2, 1, 3, 4), U(64, -1, 1, 3, 4, 2)], v => v[0].MatMul(v[1]), true);
        yield return new("MatMul", "transpose flags", () => [U(65, -1, 1, 4, 3), U(66, -1, 1, 5, 4)], v => v[0].MatMul(v[1], true, true), true);
        yield return new("MatMul", "vector and non-contiguous", () => [U(67, -1, 1, 4), Transposed(U(68, -1, 1, 4, 3))], v => v[0].MatMul(v[1]), true);
        var strided = new Conv2dOptions { Stride = 2, Padding = new Padding2d(1, 0, 0, 1), Groups = 2 };
        yield return new("Conv2d", "stride 2, asymmetric pad, groups 2, bias", () => [U(71, -1, 1, 2, 4, 5, 5), U(72, -1, 1, 4, 2, 3, 3), U(73, -1, 1, 4)],
            v => v[0].Conv2d(v[1], v[2], strided), true);
        var dilated = new Conv2dOptions { Padding = 2, Dilation = 2 };
        yield return new("Conv2d", "dilation 2", () => [U(74, -1, 1, 1, 2, 5, 4), U(75, -1, 1, 3, 2, 3, 2)], v => v[0].Conv2d(v[1], null, dilated), true);
        var same = new Conv2dOptions { Padding = 1 };
        yield return new("Conv2dInputGrad", "3x3 pad 1", () => [U(76, -1, 1, 1, 3, 4, 4), U(77, -1, 1, 3, 2, 3, 3)],
            v => Variable.Apply(new Functions.Conv2dInputGrad([1, 2, 4, 4], same), v[0], v[1]), true);
        yield return new("Conv2dWeightGrad", "3x3 pad 1", () => [U(78, -1, 1, 1, 2, 4, 4), U(79, -1, 1, 1, 3, 4, 4)],
            v => Variable.Apply(new Functions.Conv2dWeightGrad([3, 2, 3, 3], same), v[0], v[1]), true);
        yield return new("MaxPool2d", "3x3 stride 2 pad 1", () => [U(81, -2, 2, 1, 2, 5, 5)], v => v[0].MaxPool2d(new Pool2dOptions(3) { Stride = 2, Padding = 1 }), true);
        yield return new("AvgPool2d", "count_include_pad", () => [U(82, -2, 2, 1, 2, 5, 5)], v => v[0].AvgPool2d(new Pool2dOptions(3) { Stride = 2, Padding = 1 }), true);
        yield return new("AvgPool2d", "exclude pad, ceil mode", () => [U(83, -2, 2, 1, 2, 5, 6)],
            v => v[0].AvgPool2d(new Pool2dOptions(2) { Stride = 2, Padding = 1, CountIncludePad = false, CeilMode = true }), true);
        yield return new("AvgPool2dGrad", "exclude pad, ceil mode", () => [U(85, -2, 2, 1, 2, 3, 4)],
            v => Variable.Apply(new Functions.AvgPool2dGrad([1, 2, 5, 6], new Pool2dOptions(2) { Stride = 2, Padding = 1, CountIncludePad = false, CeilMode = true }), v[0]), true);
        yield return new("MaxPool2d", "2x2 overlapping windows, stride 1", () => [U(86, -2, 2, 2, 1, 4, 4)], v => v[0].MaxPool2d(new Pool2dOptions(2) { Stride = 1 }), true);
        yield return new("BatchNorm", "training 2-D, no affine", () => [U(87, -2, 2, 5, 3)], v => Functional.BatchNorm(v[0], training: true), true);
        yield return new("GlobalAvgPool2d", "4x3", () => [U(84, -2, 2, 2, 3, 4, 3)], v => v[0].GlobalAvgPool2d(), true);

        // normalisation, dropout
        yield return new("BatchNorm", "training 4-D, affine", () => [U(91, -2, 2, 3, 2, 2, 2), U(92, 0.5, 1.5, 2), U(93, -1, 1, 2)],
            v => Functional.BatchNorm(v[0], weight: v[1], bias: v[2], training: true), true);
        yield return new("BatchNorm", "evaluation 2-D", () => [U(94, -2, 2, 4, 3), U(95, 0.5, 1.5, 3), U(96, -1, 1, 3)],
            v => Functional.BatchNorm(v[0], Tensor.FromArray(new[] { 0.1, -0.2, 0.3 }), Tensor.FromArray(new[] { 0.5, 1.5, 2.0 }), v[1], v[2], training: false), true);
        yield return new("LayerNorm", "last dim, affine", () => [U(97, -2, 2, 3, 5), U(98, 0.5, 1.5, 5), U(99, -1, 1, 5)],
            v => Functional.LayerNorm(v[0], [5], v[1], v[2]), true);
        yield return new("LayerNorm", "last two dims", () => [U(100, -2, 2, 2, 3, 4)], v => Functional.LayerNorm(v[0], [3, 4]), true);
        yield return new("Dropout", "p = 0.4, seeded", () => [U(101, -2, 2, 4, 5)], v => Functional.Dropout(v[0], 0.4, generator: new Generator(7)), true);

        // indexing
        yield return new("IndexSelect", "repeated rows (embedding)", () => [U(111, -2, 2, 5, 3)], v => v[0].IndexSelect(0, Longs(4, 0, 4, 2)), true);
        yield return new("IndexSelect", "axis 1", () => [U(112, -2, 2, 2, 4, 3)], v => v[0].IndexSelect(1, Longs(3, 3, 1)), true);
        yield return new("Gather", "axis 1", () => [U(113, -2, 2, 3, 4)], v => v[0].Gather(1, Tensor.FromArray(new long[,] { { 0, 3 }, { 2, 2 }, { 1, 0 } })), true);
        yield return new("ScatterAdd", "axis 0, duplicates", () => [U(114, -2, 2, 3, 2), U(115, -2, 2, 4, 2)],
            v => v[0].ScatterAdd(0, Tensor.FromArray(new long[,] { { 0, 2 }, { 2, 2 }, { 1, 0 }, { 0, 1 } }), v[1]), true);

        // views and joins
        yield return new("Reshape", "split and merge", () => [U(121, -2, 2, 3, 4)], v => v[0].Reshape(2, 6) * v[0].Reshape(2, 6), true);
        yield return new("Permute", "rank 3", () => [U(122, -2, 2, 2, 3, 4)], v => v[0].Permute(2, 0, 1).Square(), true);
        yield return new("Transpose", "dims 0, 2", () => [U(123, -2, 2, 2, 3, 4)], v => v[0].Transpose(0, 2).Exp(), true);
        yield return new("Slice", "step 2", () => [U(124, -2, 2, 3, 7)], v => v[0].Slice(1, 1, 7, 2).Square(), true);
        yield return new("SliceScatter", "into zeros", () => [U(125, -2, 2, 3, 3)], v => Variable.Apply(new Functions.SliceScatter([3, 7], 1, 1, 7, 2), v[0]).Square(), true);
        yield return new("Expand", "new and unit dims", () => [U(126, -2, 2, 3, 1)], v => v[0].Expand(2, 3, 4).Square(), true);
        yield return new("SumTo", "to a broadcast shape", () => [U(127, -2, 2, 2, 3, 4)], v => v[0].SumTo(3, 1).Square(), true);
        yield return new("Squeeze", "all unit dims", () => [U(128, -2, 2, 1, 3, 1, 4)], v => v[0].Squeeze().Square(), true);
        yield return new("Unsqueeze", "middle", () => [U(129, -2, 2, 3, 4)], v => v[0].Unsqueeze(1).Square(), true);
        yield return new("Concat", "axis 1, three inputs", () => [U(130, -2, 2, 2, 3), U(131, -2, 2, 2, 1), U(132, -2, 2, 2, 2)], v => Variable.Concat(v, 1).Square(), true);
        yield return new("Stack", "axis -1", () => [U(133, -2, 2, 2, 3), U(134, -2, 2, 2, 3)], v => Variable.Stack(v, -1).Square(), true);
        yield return new("Pad", "pad and crop", () => [U(135, -2, 2, 3, 4)], v => v[0].Pad([1, -1, 0, 2], 0.5).Square(), true);
        yield return new("Contiguous", "of a transpose", () => [Transposed(U(136, -2, 2, 4, 3))], v => v[0].Contiguous().Square(), true);

        // losses
        var labels = TensorScope.Escape(Longs(2, 0, 3, 1));                  // shared by the cases: no scope owns them
        var weights = TensorScope.Escape(Tensor.FromArray(new[] { 0.5, 1.0, 2.0, 1.5 }));
        yield return new("CrossEntropy", "mean", () => [U(141, -2, 2, 4, 4)], v => Functional.CrossEntropy(v[0], labels), true);
        yield return new("CrossEntropy", "weights and label smoothing", () => [U(142, -2, 2, 4, 4)],
            v => Functional.CrossEntropy(v[0], labels, weights, labelSmoothing: 0.1), true);
        yield return new("CrossEntropy", "sum, non-contiguous", () => [Transposed(U(143, -2, 2, 4, 4))], v => Functional.CrossEntropy(v[0], labels, reduction: Reduction.Sum), true);
        yield return new("CrossEntropy", "none", () => [U(144, -2, 2, 4, 4)], v => Functional.CrossEntropy(v[0], labels, labelSmoothing: 0.2, reduction: Reduction.None), true);
        yield return new("MseLoss", "mean", () => [U(145, -2, 2, 3, 4), U(146, -2, 2, 3, 4)], v => Functional.MseLoss(v[0], v[1]), true);
        yield return new("MseLoss", "sum, broadcast", () => [U(147, -2, 2, 3, 4), U(148, -2, 2, 4)], v => Functional.MseLoss(v[0], v[1], Reduction.Sum), true);
        yield return new("MseLoss", "none", () => [U(149, -2, 2, 3, 4), U(150, -2, 2, 3, 4)], v => Functional.MseLoss(v[0], v[1], Reduction.None), true);
        yield return new("BceWithLogits", "mean", () => [U(151, -3, 3, 3, 4), U(152, 0, 1, 3, 4)], v => Functional.BinaryCrossEntropyWithLogits(v[0], v[1]), true);
        yield return new("BceWithLogits", "weights, positive weight, sum", () => [U(153, -3, 3, 2, 3), U(154, 0, 1, 2, 3)],
            v => Functional.BinaryCrossEntropyWithLogits(v[0], v[1], U(155, 0.5, 2, 2, 3), Tensor.FromArray(new[] { 1.0, 2.0, 0.5 }), Reduction.Sum), true);
    }
}
