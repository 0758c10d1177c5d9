namespace Engine.Tests;

/// <summary>
/// Every public op given bad input: the exception type, and a message that names the op and the
/// shapes (or dtypes) involved and says which rule was broken.
/// </summary>
public sealed class BadInputTests
{
    public sealed record Bad(string Name, Action Call, Type Exception, params string[] MessageParts)
    {
        public override string ToString() => Name;
    }

    private static Tensor F(params int[] shape) => Tensor.Zeros(shape);
    private static Tensor I(params int[] shape) => Tensor.Zeros(shape, DType.Int64);
    private static Tensor D(params int[] shape) => Tensor.Zeros(shape, DType.Float64);
    private static Tensor B(params int[] shape) => Tensor.Zeros(shape, DType.Bool);
    private static readonly Type Shape = typeof(ShapeException), DTypeE = typeof(DTypeException), Index = typeof(IndexRangeException), Engine = typeof(EngineException);

    public static readonly Bad[] Cases =
    [
        new("Add shapes", () => _ = F(2, 3) + F(4), Shape, "Add: [2, 3] x [4]", "sizes 3 and 4", "broadcast"),
        new("Mul dtypes", () => _ = F(2) * D(2), DTypeE, "Mul", "float32", "float64"),
        new("Div int", () => _ = I(2) / I(2), DTypeE, "Div", "int64"),
        new("Div int scalar fraction", () => _ = I(2) + 0.5, DTypeE, "Add", "0.5", "int64"),
        new("Exp int", () => F(1).To(DType.Int32).Exp(), DTypeE, "Exp", "int32", "float32, float64"),
        new("Compare shapes", () => _ = F(3) > F(2), Shape, "Gt: [3] x [2]"),
        new("Lt bool", () => B(2).Lt(B(2)), DTypeE, "Lt", "bool"),
        new("Where cond dtype", () => Tensor.Where(F(2), F(2), F(2)), DTypeE, "Where", "condition", "float32"),
        new("Where shapes", () => Tensor.Where(B(3), F(2), F(2)), Shape, "Where: [3] x [2]"),
        new("Clamp bounds", () => F(2).Clamp(1, 0), Engine, "Clamp", "min 1", "max 0"),
        new("AddInPlace broadcast", () => F(3).AddInPlace(F(2, 3)), Shape, "AddInPlace: [2, 3] x [3]"),
        new("CopyFrom shapes", () => F(3).CopyFrom(F(4)), Shape, "CopyFrom: [4] x [3]"),
        new("MatMul inner", () => F(64, 784).MatMul(F(128, 10)), Shape, "MatMul: [64, 784] x [128, 10]: inner sizes 784 and 128 differ"),
        new("MatMul batch", () => F(2, 3, 4).MatMul(F(3, 4, 5)), Shape, "MatMul: [2] x [3]", "cannot be broadcast"),
        new("MatMul rank 0", () => Tensor.Scalar(1).MatMul(F(2)), Shape, "MatMul: [] x [2]"),
        new("MatMul int", () => I(2, 2).MatMul(I(2, 2)), DTypeE, "MatMul", "int64"),
        new("MatMul transpose vector", () => F(3).MatMul(F(3, 2), transposeA: true), Shape, "MatMul: [3] x [3, 2]", "transposed"),
        new("Conv2d rank", () => F(3, 8, 8).Conv2d(F(4, 3, 3, 3)), Shape, "Conv2d: [3, 8, 8] x [4, 3, 3, 3]", "rank 4"),
        new("Conv2d channels", () => F(1, 3, 8, 8).Conv2d(F(4, 2, 3, 3)), Shape, "Conv2d: [1, 3, 8, 8] x [4, 2, 3, 3]", "2 input channels per group"),
        new("Conv2d groups", () => F(1, 3, 8, 8).Conv2d(F(4, 1, 3, 3), groups: 2), Shape, "Conv2d", "divide by groups 2"),
        new("Conv2d kernel too big", () => F(1, 1, 2, 2).Conv2d(F(1, 1, 3, 3)), Shape, "Conv2d: [1, 1, 2, 2] x [1, 1, 3, 3]", "larger than the padded"),
        new("Conv2d bias", () => F(1, 1, 4, 4).Conv2d(F(2, 1, 3, 3), F(3)), Shape, "Conv2d: [1, 1, 4, 4] x [2, 1, 3, 3] x [3]", "bias"),
        new("Conv2d stride", () => F(1, 1, 4, 4).Conv2d(F(1, 1, 3, 3), stride: 0), Shape, "Conv2d", "stride 0"),
        new("Conv2d dtype", () => I(1, 1, 4, 4).Conv2d(I(1, 1, 3, 3)), DTypeE, "Conv2d", "int64"),
        new("Conv2d mixed dtypes", () => F(1, 1, 4, 4).Conv2d(D(1, 1, 3, 3)), DTypeE, "Conv2d", "float32 and float64"),
        new("Conv2dBackwardInput grad shape", () => Tensor.Conv2dBackwardInput(F(1, 2, 5, 5), F(2, 1, 3, 3), [1, 1, 4, 4], new Conv2dOptions()), Shape, "Conv2dBackwardInput: [1, 2, 5, 5] x [1, 2, 2, 2]"),
        new("Conv2dBackwardWeight rank", () => Tensor.Conv2dBackwardWeight(F(1, 4, 4), F(1, 1, 2, 2), [1, 1, 3, 3], new Conv2dOptions()), Shape, "Conv2dBackwardWeight: [1, 4, 4]"),
        new("MaxPool2d rank", () => F(4, 4).MaxPool2d(2), Shape, "MaxPool2d: [4, 4]", "rank 4"),
        new("MaxPool2d padding", () => F(1, 1, 4, 4).MaxPool2d(2, padding: 2), Shape, "MaxPool2d: [1, 1, 4, 4]", "at most half the kernel"),
        new("MaxPool2d window", () => F(1, 1, 2, 2).MaxPool2d(3), Shape, "MaxPool2d: [1, 1, 2, 2]", "larger than"),
        new("AvgPool2d dtype", () => I(1, 1, 4, 4).AvgPool2d(2), DTypeE, "AvgPool2d", "int64"),
        new("MaxPool2dBackward indices dtype", () => Tensor.MaxPool2dBackward(F(1, 1, 2, 2), F(1, 1, 2, 2), [1, 1, 4, 4], new Pool2dOptions(2)), DTypeE, "MaxPool2dBackward", "int64"),
        new("AvgPool2dBackward grad shape", () => Tensor.AvgPool2dBackward(F(1, 1, 3, 3), [1, 1, 4, 4], new Pool2dOptions(2)), Shape, "AvgPool2dBackward: [1, 1, 3, 3] x [1, 1, 2, 2]"),
        new("Reshape count", () => F(2, 3).Reshape(4, 2), Shape, "Reshape: [2, 3] x [4, 2]", "6 elements"),
        new("Reshape two -1", () => F(2, 3).Reshape(-1, -1), Shape, "Reshape", "only one size may be -1"),
        new("View strides", () => F(2, 3).T.View(6), Shape, "View: [3, 2] x [6]", "Reshape"),
        new("Permute duplicate", () => F(2, 3).Permute(0, 0), Shape, "Permute: [2, 3]", "twice"),
        new("Permute rank", () => F(2, 3).Permute(0), Shape, "Permute: [2, 3]", "rank 2"),
        new("Transpose axis", () => F(2, 3).Transpose(0, 2), Shape, "Transpose: [2, 3]", "axis 2 is out of range"),
        new("T rank", () => _ = F(2, 3, 4).T, Shape, "T: [2, 3, 4]", "rank-2"),
        new("Slice step", () => F(4).Slice(0, 0, 4, 0), Shape, "Slice: [4]", "step 0"),
        new("Narrow range", () => F(4).Narrow(0, 2, 3), Shape, "Narrow: [4]", "start 2 and length 3"),
        new("Select range", () => F(4).Select(0, 4), Index, "Select: [4]", "index 4"),
        new("Expand size", () => F(2, 3).Expand(4, 3), Shape, "Expand: [2, 3] x [4, 3]", "size 2"),
        new("Squeeze non-unit", () => F(2, 3).Squeeze(0), Shape, "Squeeze: [2, 3]", "size 2"),
        new("Unsqueeze range", () => F(2).Unsqueeze(3), Shape, "Unsqueeze: [2]", "dim 3"),
        new("Flatten order", () => F(2, 3, 4).Flatten(2, 1), Shape, "Flatten: [2, 3, 4]", "start dim 2"),
        new("Sum axis", () => F(2, 3).Sum(2), Shape, "Sum: [2, 3]", "axis 2 is out of range for rank 2"),
        new("Sum duplicate axis", () => F(2, 3).Sum([1, -1]), Shape, "Sum: [2, 3]", "twice"),
        new("Max empty", () => F(0, 3).Max(0), Shape, "Max: [0, 3]", "size 0"),
        new("Min bool", () => B(3).Min(), DTypeE, "Min", "bool"),
        new("ArgMax bool", () => B(3).ArgMax(), DTypeE, "ArgMax", "bool"),
        new("ArgMin empty", () => F(0).ArgMin(), Shape, "ArgMin: [0]", "size 0"),
        new("Mean int", () => I(3).Mean(), DTypeE, "Mean", "int64", "float32, float64"),
        new("Var int", () => I(3).Var(), DTypeE, "Var", "int64"),
        new("LogSumExp int", () => I(3).LogSumExp(0), DTypeE, "LogSumExp", "int64"),
        new("Softmax axis", () => F(2, 3).Softmax(2), Shape, "Softmax: [2, 3]", "axis 2"),
        new("LogSoftmax int", () => I(2).LogSoftmax(0), DTypeE, "LogSoftmax", "int64"),
        new("IndexSelect index dtype", () => F(3).IndexSelect(0, F(2)), DTypeE, "IndexSelect", "int32 or int64", "float32"),
        new("IndexSelect index rank", () => F(3).IndexSelect(0, I(2, 1)), Shape, "IndexSelect: [3] x [2, 1]", "1-D"),
        new("IndexSelect range", () => F(3).IndexSelect(0, Tensor.FromArray(new long[] { 3 })), Index, "IndexSelect: [3]", "index 3", "axis 0 of size 3"),
        new("Gather rank", () => F(3, 2).Gather(1, I(3)), Shape, "Gather: [3, 2] x [3]", "same rank"),
        new("Gather size", () => F(3, 2).Gather(1, I(4, 1)), Shape, "Gather: [3, 2] x [4, 1]", "exceeds"),
        new("Gather range", () => F(3, 2).Gather(1, Tensor.FromArray(new long[] { -1 }, 1, 1)), Index, "Gather: [3, 2]", "index -1"),
        new("ScatterAdd dtypes", () => F(3).ScatterAdd(0, I(3), D(3)), DTypeE, "ScatterAdd", "float32 and float64"),
        new("ScatterAdd source size", () => F(3).ScatterAdd(0, I(3), F(2)), Shape, "ScatterAdd: [3] x [2]", "exceeds the source"),
        new("OneHot dtype", () => F(3).OneHot(3), DTypeE, "OneHot", "float32"),
        new("OneHot range", () => Tensor.FromArray(new long[] { 0, 5 }).OneHot(3), Index, "OneHot: [2]", "label 5", "[0, 3)"),
        new("Concat empty", () => Tensor.Concat([]), Shape, "Concat", "at least one"),
        new("Concat sizes", () => Tensor.Concat([F(2, 3), F(2, 4)], 0), Shape, "Concat: [2, 3] x [2, 4]", "dim 1"),
        new("Concat rank", () => Tensor.Concat([F(2, 3), F(3)]), Shape, "Concat: [2, 3] x [3]", "same rank"),
        new("Concat dtypes", () => Tensor.Concat([F(2), I(2)]), DTypeE, "Concat", "float32 and int64"),
        new("Stack shapes", () => Tensor.Stack([F(2), F(3)]), Shape, "Stack: [2] x [3]", "same shape"),
        new("Pad pairs", () => F(2, 3).Pad([1]), Shape, "Pad: [2, 3]", "(before, after) pairs"),
        new("Pad crop too far", () => F(2, 3).Pad([-2, -2]), Shape, "Pad: [2, 3]", "size -1"),
        new("FromArray count", () => Tensor.FromArray(new float[5], 2, 3), Shape, "FromArray: [2, 3]", "5"),
        new("FromArray 0-d count", () => Tensor.FromArray(new float[3], []), Shape, "FromArray: []", "0-d", "holds 3", "[3]"),
        new("FromArray negative", () => Tensor.FromArray(new float[0], -1), Shape, "FromArray: [-1]", "non-negative"),
        new("FromArray element type", () => Tensor.FromArray(new string[1]), DTypeE, "FromArray", "String"),
        new("ToArray type", () => F(2).ToArray<double>(), DTypeE, "ToArray", "float32", "Double"),
        new("Item size", () => F(2).Item<float>(), Shape, "Item: [2]", "one-element"),
        new("Indexer rank", () => _ = F(2, 3)[1], Shape, "Indexer: [2, 3]", "1 indices given for rank 2"),
        new("Indexer range", () => _ = F(2, 3)[0, 3], Index, "Indexer: [2, 3]", "index 3", "axis 1 of size 3"),
        new("Zeros negative", () => Tensor.Zeros(2, -3), Shape, "Full: [2, -3]", "non-negative"),
        new("Arange step", () => Tensor.Arange(0, 1, 0), Shape, "Arange", "step 0"),
        new("Linspace steps", () => Tensor.Linspace(0, 1, -1), Shape, "Linspace", "steps -1"),
        new("Rand dtype", () => Tensor.Rand([2], 0, 1, DType.Int64), DTypeE, "Rand", "int64", "RandInt"),
        new("Rand range", () => Tensor.Rand([2], 1, 1), Engine, "Rand", "[1, 1)"),
        new("RandN std", () => Tensor.RandN([2], 0, -1), Engine, "RandN", "std -1"),
        new("RandInt range", () => Tensor.RandInt(3, 3, [2]), Engine, "RandInt", "[3, 3) is empty"),
        new("Size axis", () => F(2).Size(1), Shape, "Size: [2]", "axis 1"),
        new("Overflowing shape", () => Tensor.Zeros([998724481, 1119412321, 33, 5]), Shape, "[998724481, 1119412321, 33, 5]", "more than 2^60 elements"),
        new("Overflowing reshape", () => F(4).Reshape(65536, 65536, 65536, 65536), Shape, "Reshape: [4]", "more than 2^60 elements"),
        new("Absent device", () => Tensor.Zeros([2], DType.Float32, new Device(DeviceKind.Cuda, 3)), typeof(DeviceException), "cuda:3", "not available", "cpu"),
        new("To absent device", () => F(2).To(new Device(DeviceKind.OpenCL, 9)), typeof(DeviceException), "To", "opencl:9"),
    ];

    public static TheoryData<string> Names() => [.. Cases.Select(c => c.Name)];

    [Theory, MemberData(nameof(Names))]
    public void Bad_input_is_rejected_with_a_message_naming_the_op(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        using var scope = Tensor.Scope();
        var ex = Assert.Throws(c.Exception, c.Call);
        foreach (var part in c.MessageParts)
            Assert.Contains(part, ex.Message);
    }

    [Fact]
    public void A_disposed_tensor_cannot_be_used()
    {
        var t = Tensor.Ones(2);
        t.Dispose();
        var ex = Assert.Throws<DisposedTensorException>(() => t.Exp());
        Assert.Contains("Exp", ex.Message);
        Assert.Throws<DisposedTensorException>(() => t.Reshape(2));
        Assert.Throws<DisposedTensorException>(() => _ = Tensor.Ones(2) + t);
    }

    [Fact]
    public void Failed_ops_leave_their_operands_unchanged()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[] { 1, 2, 3 });
        Assert.Throws<ShapeException>(() => x.AddInPlace(Tensor.Ones(2)));
        Assert.Throws<DTypeException>(() => x.AddInPlace(Tensor.Ones([3], DType.Float64)));
        Assert.Equal(new float[] { 1, 2, 3 }, x.ToArray<float>());
    }
}
