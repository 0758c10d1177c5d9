using Engine.Onnx.Proto;

namespace Engine.Onnx;

// The fused Conv + BatchNormalization that OnnxRewrite.FuseConvBatchNorm makes: in inference the
// normalization folds into the convolution's weights (cached while none of its sources change);
// in training the two run as they are. OnnxRewrite.FuseRelu then merges a following Relu (into a
// ConvRelu node, or relu = 1 on the fused node): applied as the convolution writes when no gradient is needed.
public sealed partial class OnnxModel
{
    /// <summary>The rewriter's own ops, by "domain.op".</summary>
    private static readonly Dictionary<string, OpDef> s_fused = new()
    {
        [OnnxRewrite.FusedDomain + "." + OnnxRewrite.ConvBatchNorm] = new(c => c.Model.ConvBatchNorm(c)),
        [OnnxRewrite.FusedDomain + "." + OnnxRewrite.ConvRelu] =
            new(c => [OnnxOps.Conv(c, c.X(0), c.X(1), c.In(2), relu: true, residual: c.Int("residual", 0) == 1 ? c.X(3) : null)]),
    };

    /// <summary>Inputs: x, w, b (may be empty), then γ, β, mean, variance; the Conv's attributes and the BatchNormalization's epsilon and momentum.</summary>
    private Variable[] ConvBatchNorm(OnnxCall c)
    {
        var x = c.X(0);
        var (w, b) = (c.X(1), c.In(2));
        bool relu = c.Int("relu", 0) == 1;
        var residual = c.Int("residual", 0) == 1 ? c.X(7) : null;
        if (c.Training)
        {
            var y = OnnxOps.BatchNorm(c, OnnxOps.Conv(c, x, w, b), 3);
            var z = residual is null ? y[0] : y[0] + residual;
            return relu ? [z.Relu(), .. y[1..]] : [z, .. y[1..]];
        }
        // inference: y = conv(x, w·s) + (b − mean)·s + β with s = γ / √(var + ε) per output channel,
        // written with Variables, so gradients still reach γ, β, w and b
        var proto = c.Node.Proto;
        var mean = RunningStatistic(proto.Input[5]) ?? c.X(5).Data;
        var variance = RunningStatistic(proto.Input[6]) ?? c.X(6).Data;
        var (gamma, beta) = (c.X(3), c.X(4));
        double eps = c.Float("epsilon", 1e-5f);
        Variable weight, shift;
        if (GradMode.IsEnabled && (w.RequiresGrad || b is { RequiresGrad: true } || gamma.RequiresGrad || beta.RequiresGrad))
            (weight, shift) = FoldBatchNorm(w, b, gamma, beta, mean, variance, eps);
        else
        {
            // nothing needs a gradient: reuse the folded tensors while none of their sources changed
            // (one lock for the cache: threads serving the same model find or fill it in turn)
            Tensor?[] sources = [w.Data, b?.Data, gamma.Data, beta.Data, mean, variance];
            FoldedConv? cached;
            lock (_foldCache)
            {
                if (!_foldCache.TryGetValue(proto, out cached) || !cached.Matches(sources))
                {
                    using (GradMode.NoGrad())
                    {
                        var (fw, fs) = FoldBatchNorm(w, b, gamma, beta, mean, variance, eps);
                        cached?.Dispose();
                        _foldCache[proto] = cached = new FoldedConv(sources, TensorScope.Escape(fw.Data), TensorScope.Escape(fs.Data));
                    }
                }
            }
            (weight, shift) = (new Variable(cached.Weight), new Variable(cached.Shift));
        }
        return [OnnxOps.Conv(c, x, weight, shift, relu, residual)];
    }

    /// <summary>
    /// A convolution's weights and bias with the following BatchNormalization folded in:
    /// w' = w·s and b' = (b − mean)·s + β, with s = γ / √(var + ε) per output channel.
    /// </summary>
    private static (Variable Weight, Variable Shift) FoldBatchNorm(Variable w, Variable? b, Variable gamma, Variable beta, Tensor mean, Tensor variance, double eps)
    {
        var s = gamma / new Variable((variance + eps).Sqrt());
        var folded = w * s.Reshape([w.Shape[0], .. Enumerable.Repeat(1, w.Rank - 1)]);
        var shift = b is null ? beta - new Variable(mean) * s : (b - new Variable(mean)) * s + beta;
        return (folded, shift);
    }

    /// <summary>Folded weights kept between calls, with the identity and version of every tensor they came from.</summary>
    private sealed class FoldedConv(Tensor?[] sources, Tensor weight, Tensor shift) : IDisposable
    {
        private readonly int[] _versions = [.. sources.Select(t => t?.Version ?? 0)];

        public Tensor Weight { get; } = weight;
        public Tensor Shift { get; } = shift;

        /// <summary>True when <paramref name="now"/> are the same tensors as before, none written since.</summary>
        public bool Matches(Tensor?[] now)
        {
            for (int i = 0; i < now.Length; i++)
                if (!ReferenceEquals(now[i], sources[i]) || (now[i]?.Version ?? 0) != _versions[i]) return false;
            return true;
        }

        public void Dispose()
        {
            Weight.Dispose();
            Shift.Dispose();
        }
    }
}
