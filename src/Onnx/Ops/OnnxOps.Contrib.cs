namespace Engine.Onnx;

// The com.microsoft ops that ONNX Runtime's graph optimizer writes into the models it saves (fused
// activations, skip + layer norm, fused matrix products), so such "optimized" exports load too.
internal static partial class OnnxOps
{
    /// <summary>The contrib domain's name in files.</summary>
    internal const string Microsoft = "com.microsoft";

    private static void RegisterContrib(Dictionary<string, OpDef> ops)
    {
        ops[$"{Microsoft}.Gelu"] = new(c => [c.X(0).Gelu()]);
        ops[$"{Microsoft}.BiasGelu"] = new(c => [(c.X(0) + c.X(1)).Gelu()]);
        ops[$"{Microsoft}.FastGelu"] = new(c => [(c.In(1) is { } b ? c.X(0) + b : c.X(0)).Gelu(tanhApproximation: true)]);
        ops[$"{Microsoft}.QuickGelu"] = new(c => [c.X(0) * (c.X(0) * c.Float("alpha", 1.702f)).Sigmoid()]);
        ops[$"{Microsoft}.SkipLayerNormalization"] = new(c =>
        {
            // LN(input + skip + bias) · γ + β over the last dim; optional outputs: mean, 1/σ, and the sum itself
            var sum = c.X(0) + c.X(1);
            if (c.In(4) is { } bias) sum += bias;
            int hidden = sum.Shape[^1];
            var gamma = c.X(2);
            var beta = c.In(3);
            double eps = c.Float("epsilon", 1e-12f);
            var y = Functional.LayerNorm(sum, [hidden], gamma.Rank == 1 ? gamma : gamma.Reshape(hidden), beta is null ? null : beta.Rank == 1 ? beta : beta.Reshape(hidden), eps);
            var outputs = new List<Variable> { y };
            if (c.Node.WantsOutput(1) || c.Node.WantsOutput(2))
            {
                var (mean, inv) = MeanAndInvStd(sum.Data, sum.Rank - 1, eps);
                outputs.Add(Constant(mean));
                outputs.Add(Constant(inv));
            }
            if (c.Node.WantsOutput(3))
            {
                while (outputs.Count < 3) outputs.Add(Constant(Tensor.Zeros([0], sum.DType)));
                outputs.Add(sum);
            }
            return [.. outputs];
        });
        ops[$"{Microsoft}.FusedMatMul"] = new(c =>
        {
            var y = c.X(0).MatMul(c.X(1), c.Int("transA", 0) != 0, c.Int("transB", 0) != 0);
            double alpha = c.Float("alpha", 1f);
            return [alpha == 1 ? y : y * alpha];
        }, Refuse: n => n.Int("transBatchA", 0) != 0 || n.Int("transBatchB", 0) != 0 ? "FusedMatMul with transBatchA/transBatchB" : null);
    }
}
