using Engine.Kernels;

namespace Engine.Tests;

/// <summary>
/// The op table and every other primitive on an ILGPU device, against the CPU backend's results on
/// the same inputs (the CPU backend is itself checked against float64 references elsewhere).
/// Tiny shapes: on ILGPU's CPU accelerator these kernels run in an emulator. Operands include
/// permuted, sliced and broadcast views, so the strided paths of every kernel are exercised.
/// Stamped out per device below; CUDA and OpenCL skip, with the reason, where absent (OpenCL fails instead
/// where ENGINE_REQUIRE_OPENCL=1, as in CI, which installs PoCL).
/// </summary>
public abstract class IlgpuConformanceTests
{
    protected abstract Device Dev { get; }

    private void Need() => DeviceNeeds.Need(Dev);

    private Tensor On(Tensor t) => t.To(Dev);

    /// <summary>Asserts that <paramref name="actual"/> (on the device) matches <paramref name="expected"/> (CPU).</summary>
    private void Same(Tensor expected, Tensor actual, string what, double tol = -1)
    {
        Assert.Equal(Dev, actual.Device);
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        if (tol < 0) tol = expected.DType switch { DType.Float32 => 2e-5, DType.Float64 => 1e-12, _ => 0 };
        using var scope = Tensor.Scope();
        var back = actual.To(Device.Cpu);
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = back.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i])) { Assert.True(double.IsNaN(a[i]), $"{what}: element {i}: expected NaN, got {a[i]}"); continue; }
            if (double.IsInfinity(e[i])) { Assert.True(e[i] == a[i], $"{what}: element {i}: expected {e[i]}, got {a[i]}"); continue; }
            Assert.True(Math.Abs(a[i] - e[i]) <= tol * (1 + Math.Abs(e[i])), $"{what}: element {i}: expected {e[i]}, got {a[i]}");
        }
    }

    private static Tensor Input(Random rng, int[] shape, double lo, double hi, DType dtype) =>
        dtype.IsFloating() ? Data.Uniform(rng, shape, lo, hi, dtype) : Data.Ints(rng, shape, (int)Math.Ceiling(lo), (int)Math.Floor(hi) + 1, dtype);

    public static TheoryData<string, DType> UnaryCases() => ElementwiseTests.UnaryCases();
    public static TheoryData<string, DType> BinaryCases() => ElementwiseTests.BinaryCases();
    public static TheoryData<DType> FloatTypes() => [DType.Float32, DType.Float64];
    public static TheoryData<DType> NumericTypes() => [DType.Float32, DType.Float64, DType.Int32, DType.Int64];

    [SkippableTheory, MemberData(nameof(UnaryCases))]
    public void Unary_matches_cpu_on_dense_and_strided_operands(string name, DType dtype)
    {
        Need();
        var op = OpDb.Unary.Single(o => o.Name == name);
        var rng = new Random(name.GetHashCode() & 0xffff);
        using var scope = Tensor.Scope();
        var x = Input(rng, [3, 5], op.Lo, op.Hi, dtype);
        Same(op.Op(x), op.Op(On(x)), name);
        Same(op.Op(x.T), op.Op(On(x).T), name + " transposed");
        Same(op.Op(x.Slice(1, 1, 5, 2)), op.Op(On(x).Slice(1, 1, 5, 2)), name + " sliced");
    }

    [SkippableTheory, MemberData(nameof(BinaryCases))]
    public void Binary_and_compare_match_cpu_with_broadcasting(string name, DType dtype)
    {
        Need();
        var op = OpDb.Binary.Concat(OpDb.Compare).Single(o => o.Name == name);
        var rng = new Random(name.GetHashCode() & 0xffff);
        using var scope = Tensor.Scope();
        var a = Input(rng, [2, 3, 4], op.Lo, op.Hi, dtype);
        var b = Input(rng, [3, 1], op.LoB, op.HiB, dtype);
        var c = Input(rng, [4, 3, 2], op.LoB, op.HiB, dtype).Permute(2, 1, 0);
        Same(op.Op(a, b), op.Op(On(a), On(b)), name + " broadcast");
        Same(op.Op(a, c), op.Op(On(a), On(c)), name + " permuted");
    }

    [SkippableTheory, MemberData(nameof(NumericTypes))]
    public void Fill_cast_copy_and_where_match_cpu(DType dtype)
    {
        Need();
        var rng = new Random(3);
        using var scope = Tensor.Scope();
        var x = Input(rng, [4, 3], -5, 5, dtype);
        foreach (var to in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.Bool })
            Same(x.To(to), On(x).To(to), $"cast to {to}");
        Same(Tensor.Full([2, 3], 2.5, DType.Float64).To(dtype), Tensor.Full([2, 3], 2.5, DType.Float64, Dev).To(dtype), "full");
        Same(x.T.Contiguous(), On(x).T.Contiguous(), "strided copy");
        var cond = x > Tensor.Scalar(0.0, dtype);
        var other = Input(rng, [3], -5, 5, dtype);
        Same(Tensor.Where(cond, x, other), Tensor.Where(On(cond), On(x), On(other)), "where");
        var y = Input(rng, [4, 3], -5, 5, dtype);
        var yd = On(y);
        y.CopyFrom(x.T.T);
        yd.CopyFrom(On(x).T.T);
        Same(y, yd, "copy into");
    }

    [SkippableTheory, MemberData(nameof(FloatTypes))]
    public void Axpby_in_place_matches_cpu(DType dtype)
    {
        Need();
        var rng = new Random(5);
        using var scope = Tensor.Scope();
        var y = Data.Uniform(rng, [5, 4], -1, 1, dtype);
        var x = Data.Uniform(rng, [4], -1, 1, dtype);
        var yd = On(y);
        y.AddInPlace(x, 0.3, 0.9);
        yd.AddInPlace(On(x), 0.3, 0.9);
        Same(y, yd, "axpby");
    }

    [SkippableTheory, MemberData(nameof(NumericTypes))]
    public void Reductions_over_every_axis_set_match_cpu(DType dtype)
    {
        Need();
        var rng = new Random(7);
        using var scope = Tensor.Scope();
        var x = Input(rng, [3, 4, 5], -9, 9, dtype);
        var xd = On(x);
        int[][] axesSets = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
        foreach (var axes in axesSets)
        {
            string at = $"axes [{string.Join(",", axes)}]";
            if (axes.Length > 0)
            {
                Same(x.Sum(axes), xd.Sum(axes), "sum " + at, dtype == DType.Float32 ? 1e-5 : -1);
                Same(x.Max(axes, keepDim: true), xd.Max(axes, keepDim: true), "max " + at);
                Same(x.Min(axes), xd.Min(axes), "min " + at);
            }
        }
        Same(x.Permute(2, 0, 1).Sum([1, 2]), xd.Permute(2, 0, 1).Sum([1, 2]), "sum of a permuted view", dtype == DType.Float32 ? 1e-5 : -1);
        for (int axis = 0; axis < 3; axis++)
        {
            Same(x.ArgMax(axis), xd.ArgMax(axis), $"argmax {axis}");
            Same(x.ArgMin(axis, keepDim: true), xd.ArgMin(axis, keepDim: true), $"argmin {axis}");
        }
        Same(x.ArgMax(), xd.ArgMax(), "argmax of all");
    }

    [SkippableTheory, MemberData(nameof(FloatTypes))]
    public void Softmax_log_softmax_and_nan_rules_match_cpu(DType dtype)
    {
        Need();
        var rng = new Random(11);
        using var scope = Tensor.Scope();
        var x = Data.Uniform(rng, [3, 4, 5], -20, 20, dtype);
        var xd = On(x);
        for (int axis = 0; axis < 3; axis++)
        {
            Same(x.Softmax(axis), xd.Softmax(axis), $"softmax {axis}");
            Same(x.LogSoftmax(axis), xd.LogSoftmax(axis), $"log-softmax {axis}", dtype == DType.Float32 ? 1e-5 : -1);
        }
        Same(x.Mean([0, 2]), xd.Mean([0, 2]), "mean");
        Same(x.Var([1]), xd.Var([1]), "var", dtype == DType.Float32 ? 1e-4 : 1e-10);
        var nan = Tensor.FromArray(new[] { 1.0, double.NaN, 3.0, 2.0, 5.0, 5.0 }).Reshape(2, 3).To(dtype);
        Same(nan.Max(1), On(nan).Max(1), "max with NaN");
        Same(nan.ArgMax(1), On(nan).ArgMax(1), "argmax with NaN and ties");
    }

    [SkippableTheory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(17, 33, 20)]
    [InlineData(40, 9, 70)]
    public void MatMul_matches_cpu_with_transposes_and_batches(int m, int k, int n)
    {
        Need();
        var rng = new Random(m * 100 + n);
        using var scope = Tensor.Scope();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var a = Data.Uniform(rng, [m, k], -1, 1, dtype);
            var b = Data.Uniform(rng, [k, n], -1, 1, dtype);
            double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
            Same(a.MatMul(b), On(a).MatMul(On(b)), $"{m}x{k}x{n}", tol);
            var at = Data.Uniform(rng, [k, m], -1, 1, dtype);
            var bt = Data.Uniform(rng, [n, k], -1, 1, dtype);
            Same(at.T.MatMul(bt.T), On(at).T.MatMul(On(bt).T), "both transposed", tol);
            var batched = Data.Uniform(rng, [3, 1, m, k], -1, 1, dtype);
            var bb = Data.Uniform(rng, [2, k, n], -1, 1, dtype);
            Same(batched.MatMul(bb), On(batched).MatMul(On(bb)), "broadcast batches", tol);
        }
    }

    public static TheoryData<string> ConvCases() => ["plain", "stride2_pad1", "asymmetric_pad", "dilation2", "groups2", "1x1"];

    private static (int[] X, int[] W, Conv2dOptions O) ConvCase(string name) => name switch
    {
        "plain" => ([2, 3, 6, 6], [4, 3, 3, 3], new Conv2dOptions()),
        "stride2_pad1" => ([1, 2, 7, 5], [3, 2, 3, 3], new Conv2dOptions { Stride = 2, Padding = 1 }),
        "asymmetric_pad" => ([1, 2, 5, 6], [2, 2, 2, 3], new Conv2dOptions { Padding = new Padding2d(0, 1, 1, 2), Stride = (1, 2) }),
        "dilation2" => ([2, 1, 7, 7], [2, 1, 3, 3], new Conv2dOptions { Dilation = 2, Padding = 2 }),
        "groups2" => ([1, 4, 5, 5], [6, 2, 3, 3], new Conv2dOptions { Groups = 2, Padding = 1 }),
        _ => ([2, 5, 3, 4], [3, 5, 1, 1], new Conv2dOptions()),
    };

    [SkippableTheory, MemberData(nameof(ConvCases))]
    public void Conv2d_forward_and_both_gradients_match_cpu(string name)
    {
        Need();
        var (xs, ws, o) = ConvCase(name);
        var rng = new Random(name.GetHashCode() & 0xffff);
        using var scope = Tensor.Scope();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
            var x = Data.Uniform(rng, xs, -1, 1, dtype);
            var w = Data.Uniform(rng, ws, -1, 1, dtype);
            var bias = Data.Uniform(rng, [ws[0]], -1, 1, dtype);
            var y = x.Conv2d(w, bias, o);
            Same(y, On(x).Conv2d(On(w), On(bias), o), name + " forward", tol);
            // the epilogue in the implicit GEMM's store: bias and ReLU, with and without a bias
            Same(x.Conv2dRelu(w, bias, o), On(x).Conv2dRelu(On(w), On(bias), o), name + " forward + relu", tol);
            Same(x.Conv2dRelu(w, null, o), On(x).Conv2dRelu(On(w), null, o), name + " forward + relu, no bias", tol);
            var residual = Data.Uniform(rng, y.Shape.ToArray(), -1, 1, dtype);
            Same(x.Conv2dRelu(w, bias, o, residual), On(x).Conv2dRelu(On(w), On(bias), o, On(residual)), name + " forward + residual + relu", tol);
            var dy = Data.Uniform(rng, y.Shape.ToArray(), -1, 1, dtype);
            Same(Tensor.Conv2dBackwardInput(dy, w, xs, o), Tensor.Conv2dBackwardInput(On(dy), On(w), xs, o), name + " backward input", tol);
            Same(Tensor.Conv2dBackwardWeight(x, dy, ws, o), Tensor.Conv2dBackwardWeight(On(x), On(dy), ws, o), name + " backward weight", tol);
        }
    }

    public static TheoryData<string> PoolCases() => ["2x2", "3x3_stride2_pad1", "ceil", "dilated", "exclude_pad"];

    private static Pool2dOptions PoolCase(string name) => name switch
    {
        "2x2" => new Pool2dOptions(2),
        "3x3_stride2_pad1" => new Pool2dOptions(3) { Stride = 2, Padding = 1 },
        "ceil" => new Pool2dOptions(3) { Stride = 2, CeilMode = true },
        "dilated" => new Pool2dOptions(2) { Stride = 1, Dilation = 2 },
        _ => new Pool2dOptions(3) { Stride = 2, Padding = 1, CountIncludePad = false },
    };

    [SkippableTheory, MemberData(nameof(PoolCases))]
    public void Pooling_forward_and_backward_match_cpu(string name)
    {
        Need();
        var o = PoolCase(name);
        var rng = new Random(name.GetHashCode() & 0xffff);
        using var scope = Tensor.Scope();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            int[] xs = [2, 2, 7, 6];
            var x = Data.Uniform(rng, xs, -1, 1, dtype);
            var (v, i) = x.MaxPool2dWithIndices(o);
            var (vd, id) = On(x).MaxPool2dWithIndices(o);
            Same(v, vd, name + " max");
            Same(i, id, name + " max indices");
            var dy = Data.Uniform(rng, v.Shape.ToArray(), -1, 1, dtype);
            Same(Tensor.MaxPool2dBackward(dy, i, xs, o), Tensor.MaxPool2dBackward(On(dy), id, xs, o), name + " max backward");
            if (o.Dilation.H == 1)
            {
                Same(x.AvgPool2d(o), On(x).AvgPool2d(o), name + " avg");
                var ay = x.AvgPool2d(o);
                var da = Data.Uniform(rng, ay.Shape.ToArray(), -1, 1, dtype);
                Same(Tensor.AvgPool2dBackward(da, xs, o), Tensor.AvgPool2dBackward(On(da), xs, o), name + " avg backward");
            }
        }
    }

    [SkippableTheory, MemberData(nameof(NumericTypes))]
    public void Index_select_gather_and_scatter_add_match_cpu(DType dtype)
    {
        Need();
        var rng = new Random(13);
        using var scope = Tensor.Scope();
        var x = Input(rng, [4, 5, 3], -9, 9, dtype);
        var idx = Tensor.FromArray(new long[] { 3, 0, 0, 2 });
        Same(x.IndexSelect(1, idx), On(x).IndexSelect(1, On(idx)), "index-select axis 1");
        Same(x.IndexSelect(0, idx.To(DType.Int32)), On(x).IndexSelect(0, On(idx.To(DType.Int32))), "index-select int32 axis 0");
        var g = Tensor.RandInt(0, 5, [4, 2, 3], generator: new Generator(1));
        Same(x.Gather(1, g), On(x).Gather(1, On(g)), "gather");
        var target = Input(rng, [4, 5, 3], -9, 9, dtype);
        var src = Input(rng, [4, 2, 3], -9, 9, dtype);
        Same(target.ScatterAdd(1, g, src), On(target).ScatterAdd(1, On(g), On(src)), "scatter-add with repeated indices");
    }

    [SkippableFact]
    public void A_bad_index_fails_with_the_cpu_message_and_writes_nothing()
    {
        Need();
        using var scope = Tensor.Scope();
        var x = Tensor.Arange(12).Reshape(3, 4).To(DType.Float32);
        var bad = Tensor.FromArray(new long[] { 1, 7 });
        var cpu = Assert.ThrowsAny<EngineException>(() => x.IndexSelect(1, bad));
        var dev = Assert.ThrowsAny<EngineException>(() => On(x).IndexSelect(1, On(bad)));
        Assert.Equal(cpu.Message, dev.Message);
        var target = On(Tensor.Zeros(3, 4));
        Assert.ThrowsAny<EngineException>(() => target.ScatterAddInPlace(1, On(Tensor.FromArray(new long[,] { { 0, 9 } })), On(Tensor.Ones(1, 2))));
        Assert.Equal(0.0, target.To(Device.Cpu).Sum().Item<float>());
    }

    [SkippableFact]
    public void Random_fill_gives_the_cpu_numbers_for_a_seed()
    {
        Need();
        using var scope = Tensor.Scope();
        Same(Tensor.Rand([3, 7], -2, 3, generator: new Generator(99)), Tensor.Rand([3, 7], -2, 3, generator: new Generator(99), device: Dev), "uniform float32", 0);
        Same(Tensor.Rand([5], 0, 1, DType.Float64, new Generator(5)), Tensor.Rand([5], 0, 1, DType.Float64, new Generator(5), Dev), "uniform float64", 0);
        Same(Tensor.RandInt(-4, 9, [11], generator: new Generator(3)), Tensor.RandInt(-4, 9, [11], generator: new Generator(3), device: Dev), "integers", 0);
        Same(Tensor.RandN([6], 1, 2, DType.Float64, new Generator(8)), Tensor.RandN([6], 1, 2, DType.Float64, new Generator(8), Dev), "normal", 1e-12);
    }

    [SkippableFact]
    public void A_training_step_on_the_device_matches_the_cpu()
    {
        Need();
        using var scope = Tensor.Scope();
        var rng = new Random(17);
        var x = Data.Uniform(rng, [6, 1, 6, 6], -1, 1, DType.Float64);
        var labels = Tensor.FromArray(new long[] { 0, 1, 2, 1, 0, 2 });
        var w1 = Data.Uniform(rng, [3, 1, 3, 3], -0.5, 0.5, DType.Float64);
        var w2 = Data.Uniform(rng, [12, 3], -0.5, 0.5, DType.Float64);
        (Tensor Loss, Tensor G1, Tensor G2) Step(Device d)
        {
            var p1 = new Parameter(w1.To(d), "w1");
            var p2 = new Parameter(w2.To(d), "w2");
            var h = new Variable(x.To(d)).Conv2d(p1, null, new Conv2dOptions { Padding = 1 }).Relu().MaxPool2d(new Pool2dOptions(3));
            var logits = h.Reshape(6, 12).MatMul(p2);
            var loss = Functional.CrossEntropy(logits, labels.To(d));
            loss.Backward();
            return (loss.Data, p1.Grad!.Data, p2.Grad!.Data);
        }
        var cpu = Step(Device.Cpu);
        var dev = Step(Dev);
        Same(cpu.Loss, dev.Loss, "loss");
        Same(cpu.G1, dev.G1, "conv weight gradient");
        Same(cpu.G2, dev.G2, "linear weight gradient");
    }

    [SkippableFact]
    public void Mixing_devices_fails_naming_both()
    {
        Need();
        using var scope = Tensor.Scope();
        var a = Tensor.Ones(2);
        var ex = Assert.Throws<DeviceException>(() => a + On(a));
        Assert.Contains("cpu", ex.Message);
        Assert.Contains(Dev.ToString(), ex.Message);
    }

    [SkippableFact]
    public void Creation_under_Use_lands_on_the_device_and_round_trips()
    {
        Need();
        using var scope = Tensor.Scope();
        Tensor t;
        using (Device.Use(Dev)) t = Tensor.Arange(6).Reshape(2, 3);
        Assert.Equal(Dev, t.Device);
        Assert.Equal(Device.Cpu, Tensor.Zeros(1).Device);
        Assert.Equal(new double[] { 0, 1, 2, 3, 4, 5 }, t.To(DType.Float64).ToArray<double>());
        Assert.Contains(Dev.ToString(), t.ToString());
    }
}

/// <summary>The conformance suite on ILGPU's CPU accelerator: the GPU kernels, run in CI without a GPU.</summary>
[Collection(nameof(IlgpuCpuCollection))]
public sealed class IlgpuCpuConformanceTests : IlgpuConformanceTests
{
    protected override Device Dev => Device.IlgpuCpu;
}

/// <summary>The conformance suite on the first CUDA device; collected only where there is one.</summary>
[DeviceSuite("cuda")]
public sealed class IlgpuCudaConformanceTests : IlgpuConformanceTests
{
    protected override Device Dev => Device.Cuda(0);
}

/// <summary>The conformance suite on the first OpenCL device; collected only where there is one.</summary>
[DeviceSuite("opencl")]
public sealed class IlgpuOpenCLConformanceTests : IlgpuConformanceTests
{
    protected override Device Dev => Device.OpenCL(0);
}
