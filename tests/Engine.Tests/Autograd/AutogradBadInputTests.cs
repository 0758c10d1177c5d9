namespace Engine.Tests;

/// <summary>The autograd layer's public entry points given bad input: typed exceptions naming the op and the shapes.</summary>
public sealed class AutogradBadInputTests
{
    public sealed record Bad(string Name, Action Call, Type Exception, params string[] MessageParts)
    {
        public override string ToString() => Name;
    }

    private static Variable V(params int[] shape) => new(Tensor.Zeros(shape, DType.Float64), requiresGrad: true);
    private static Tensor Labels(params long[] v) => Tensor.FromArray(v);

    public static readonly Bad[] Cases =
    [
        new("Add shapes", () => _ = V(2, 3) + V(4), typeof(ShapeException), "Add: [2, 3] x [4]"),
        new("MatMul inner", () => V(2, 3).MatMul(V(4, 5)), typeof(ShapeException), "MatMul: [2, 3] x [4, 5]", "inner sizes 3 and 4"),
        new("MatMul transposed vector", () => V(3).MatMul(V(3, 2), transposeA: true), typeof(ShapeException), "MatMul", "transposed"),
        new("Conv2d channels", () => V(1, 3, 5, 5).Conv2d(V(2, 2, 3, 3)), typeof(ShapeException), "Conv2d: [1, 3, 5, 5] x [2, 2, 3, 3]"),
        new("Reshape count", () => V(2, 3).Reshape(4, 2), typeof(ShapeException), "Reshape: [2, 3] x [4, 2]"),
        new("T rank", () => _ = V(2, 3, 4).T, typeof(ShapeException), "T: [2, 3, 4]"),
        new("Narrow range", () => V(4).Narrow(0, 3, 2), typeof(ShapeException), "Narrow: [4]"),
        new("Select range", () => V(4).Select(0, 4), typeof(IndexRangeException), "Select: [4]", "index 4"),
        new("Softmax axis", () => V(2, 3).Softmax(2), typeof(ShapeException), "Softmax: [2, 3]", "axis 2"),
        new("GlobalAvgPool2d rank", () => V(2, 3).GlobalAvgPool2d(), typeof(ShapeException), "GlobalAvgPool2d: [2, 3]", "rank 4"),
        new("CrossEntropy logits rank", () => Functional.CrossEntropy(V(2, 3, 4), Labels(0, 1)), typeof(ShapeException), "CrossEntropy: [2, 3, 4] x [2]", "[N, C]"),
        new("CrossEntropy target count", () => Functional.CrossEntropy(V(2, 3), Labels(0, 1, 2)), typeof(ShapeException), "CrossEntropy: [2, 3] x [3]"),
        new("CrossEntropy target dtype", () => Functional.CrossEntropy(V(2, 3), Tensor.Zeros([2], DType.Float64)), typeof(DTypeException), "CrossEntropy", "float64"),
        new("CrossEntropy target range", () => Functional.CrossEntropy(V(2, 3), Labels(0, 3)), typeof(IndexRangeException), "CrossEntropy: [2, 3]", "target 3", "3 classes"),
        new("CrossEntropy weights", () => Functional.CrossEntropy(V(2, 3), Labels(0, 1), Tensor.Ones([2], DType.Float64)), typeof(ShapeException), "CrossEntropy: [2, 3] x [2]", "class weights"),
        new("CrossEntropy smoothing", () => Functional.CrossEntropy(V(2, 3), Labels(0, 1), labelSmoothing: 1.5), typeof(EngineException), "CrossEntropy", "1.5"),
        new("MseLoss shapes", () => Functional.MseLoss(V(2, 3), V(4)), typeof(ShapeException), "MseLoss: [2, 3] x [4]"),
        new("BCE shapes", () => Functional.BinaryCrossEntropyWithLogits(V(2, 3), V(3)), typeof(ShapeException), "BceWithLogits: [2, 3] x [3]"),
        new("BatchNorm rank", () => Functional.BatchNorm(V(2, 3, 4)), typeof(ShapeException), "BatchNorm: [2, 3, 4]"),
        new("BatchNorm eval stats", () => Functional.BatchNorm(V(2, 3), training: false), typeof(EngineException), "BatchNorm", "running mean"),
        new("BatchNorm weight", () => Functional.BatchNorm(V(2, 3), weight: V(4)), typeof(ShapeException), "BatchNorm: [2, 3] x [4]", "weight"),
        new("BatchNorm one value", () => Functional.BatchNorm(V(1, 3)), typeof(ShapeException), "BatchNorm: [1, 3]", "more than one value"),
        new("LayerNorm shape", () => Functional.LayerNorm(V(2, 3), [4]), typeof(ShapeException), "LayerNorm: [2, 3] x [4]"),
        new("LayerNorm weight", () => Functional.LayerNorm(V(2, 3), [3], V(2)), typeof(ShapeException), "LayerNorm: [3] x [2]"),
        new("Dropout p", () => Functional.Dropout(V(2), 1.0), typeof(EngineException), "Dropout", "p 1"),
        new("Embedding table", () => Functional.Embedding(Labels(0), V(3)), typeof(ShapeException), "Embedding: [3]"),
        new("Grad of a constant input", () => Autograd.Grad([V(1).Sum()], [new Variable(Tensor.Ones([1], DType.Float64))]), typeof(AutogradException), "Grad", "[1]", "does not require"),
        new("Backward seeds count", () => Autograd.Grad([V(1).Sum()], [V(1)], [new Variable(Tensor.Ones([], DType.Float64)), new Variable(Tensor.Ones([], DType.Float64))]), typeof(AutogradException), "1 outputs but 2 gradients"),
        new("GradCheck float32", () => GradCheck.Run(v => v[0], [Tensor.Ones([2])], name: "identity"), typeof(EngineException), "GradCheck(identity)", "float64"),
    ];

    public static TheoryData<string> Names() => [.. Cases.Select(c => c.Name)];

    [Theory, MemberData(nameof(Names))]
    public void Bad_input_is_rejected_with_a_message_naming_the_op(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        using var scope = Tensor.Scope();
        var ex = Assert.Throws(c.Exception, c.Call);
        foreach (var part in c.MessageParts) Assert.Contains(part, ex.Message);
    }
}
