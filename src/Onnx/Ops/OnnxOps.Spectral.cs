namespace Engine.Onnx;

// DFT and STFT as products with cosine and sine matrices (so they are differentiable), and
// functions computed on the host with their first derivative attached (Det, Asin, Acos, Atan).
internal static partial class OnnxOps
{
    private static void RegisterSpectral(Dictionary<string, OpDef> ops)
    {
        ops["DFT"] = new(c =>
        {
            var x = c.X(0);
            if (x.Rank < 3 || x.Shape[^1] is not (1 or 2)) throw c.Error($"the input must be [batch, …, 1 or 2], not {Errors.Shape(x.Shape)}");
            int axis = c.Opset >= 20
                ? c.Axis((long?)c.Scalar(2) ?? -2, x.Rank)
                : c.Axis(c.Long("axis", 1), x.Rank);
            if (axis == x.Rank - 1) throw c.Error("the axis cannot be the last (real/imaginary) dim");
            long? length = c.In(1) is { } l && l.Data.Numel > 0 ? (long)c.Scalar(1)!.Value : null;
            return [Dft(c, x, axis, length, inverse: c.Int("inverse", 0) != 0, onesided: c.Int("onesided", 0) != 0)];
        });
        ops["STFT"] = new(Stft);
        ops["Det"] = new(Det);
        ops["Asin"] = new(c => [HostUnary(c.X(0), Math.Asin, v => 1 / Math.Sqrt(1 - v * v))]);
        ops["Acos"] = new(c => [HostUnary(c.X(0), Math.Acos, v => -1 / Math.Sqrt(1 - v * v))]);
        ops["Atan"] = new(c => [HostUnary(c.X(0), Math.Atan, v => 1 / (1 + v * v))]);
    }

    /// <summary>
    /// f(x) computed on the host, as f(x₀) + f′(x₀)·(x − x₀) with x₀ constant: the value is f's and the first
    /// derivative flows (gradients of gradients do not).
    /// </summary>
    private static Variable HostUnary(Variable x, Func<double, double> f, Func<double, double> derivative)
    {
        var value = Map(x.Data, f);
        if (!x.RequiresGrad) return Constant(value);
        var slope = Map(x.Data, derivative);
        return Constant(value) + Constant(slope) * (x - Constant(x.Data.Clone()));
    }

    /// <summary>
    /// The DFT along <paramref name="axis"/> of x [..., 1 or 2] (real, or real and imaginary), zero-padded or cut to
    /// <paramref name="length"/>: X_k = Σ_n x_n e^(∓2πikn/N) (÷ N for the inverse), the first N/2 + 1 when one-sided.
    /// </summary>
    private static Variable Dft(OnnxCall c, Variable x, int axis, long? length, bool inverse, bool onesided)
    {
        int n = x.Shape[axis];
        int size = length is { } l ? l is > 0 and <= MaxCumSum ? (int)l : throw c.Error($"dft_length {l} must be 1 to {MaxCumSum}") : n;
        if (size > MaxCumSum) throw c.NotSupported($"a DFT of {size} points (at most {MaxCumSum}: it is a product with an N×N matrix)");
        if (size != n)
        {
            if (size < n) x = x.Narrow(axis, 0, size);
            else
            {
                var pads = new int[2 * x.Rank];
                pads[2 * (x.Rank - 1 - axis) + 1] = size - n;
                x = x.Pad(pads);
            }
        }
        int bins = onesided ? size / 2 + 1 : size;
        // the signal axis last: re, im [..., N]
        var moved = x.Transpose(axis, x.Rank - 2);
        var re = moved.Select(moved.Rank - 1, 0);
        var im = x.Shape[^1] == 2 ? moved.Select(moved.Rank - 1, 1) : null;
        double sign = inverse ? 1 : -1;
        var cos = new double[size * bins];
        var sin = new double[size * bins];
        for (int t = 0; t < size; t++)
            for (int k = 0; k < bins; k++)
            {
                double angle = 2 * Math.PI * ((long)k * t % size) / size;
                cos[t * bins + k] = Math.Cos(angle);
                sin[t * bins + k] = sign * Math.Sin(angle);
            }
        Variable Matrix(double[] m)
        {
            using var t = Tensor.FromArray(m).Reshape(size, bins);
            return new Variable(t.To(x.DType).To(x.Device));
        }
        var (cm, sm) = (Matrix(cos), Matrix(sin));
        // (re + i·im)(cos + i·s·sin) = re·cos − im·s·sin + i(re·s·sin + im·cos)
        var real = re.MatMul(cm);
        var imag = re.MatMul(sm);
        if (im is not null)
        {
            real -= im.MatMul(sm);
            imag += im.MatMul(cm);
        }
        if (inverse)
        {
            real /= size;
            imag /= size;
        }
        var y = Variable.Stack([real, imag], real.Rank);   // [..., K, 2] with the signal axis at −2
        return y.Transpose(axis, y.Rank - 2).Contiguous();
    }

    private static Variable[] Stft(OnnxCall c)
    {
        var x = c.X(0);
        if (x.Rank != 3 || x.Shape[2] is not (1 or 2)) throw c.Error($"the signal must be [batch, length, 1 or 2], not {Errors.Shape(x.Shape)}");
        long step = (long)(c.Scalar(1) ?? throw c.Error("frame_step is required"));
        var window = c.In(2);
        long frameLength = c.In(3) is { } fl && fl.Data.Numel > 0 ? (long)c.Scalar(3)!.Value : window?.Shape[0] ?? throw c.Error("one of window and frame_length is required");
        int length = x.Shape[1];
        if (step < 1 || frameLength < 1 || frameLength > length) throw c.Error($"frame_step {step} and frame_length {frameLength} for a signal of {length}");
        if (window is not null && (window.Rank != 1 || window.Shape[0] != frameLength)) throw c.Error($"the window {Errors.Shape(window.Shape)} is not [{frameLength}]");
        int frames = (int)((length - frameLength) / step + 1);
        var parts = new List<Variable>();
        for (int f = 0; f < frames; f++)
        {
            var frame = x.Narrow(1, (int)(f * step), (int)frameLength);          // [batch, L, c]
            if (window is not null) frame *= window.To(x.DType).Reshape((int)frameLength, 1);
            parts.Add(frame);
        }
        var stacked = Variable.Stack(parts, 1);                                    // [batch, frames, L, c]
        return [Dft(c, stacked, 2, null, inverse: false, onesided: c.Int("onesided", 1) != 0)];
    }

    private static Variable[] Det(OnnxCall c)
    {
        var x = c.X(0);
        if (x.Rank < 2 || x.Shape[^1] != x.Shape[^2]) throw c.Error($"the input must be [..., M, M], not {Errors.Shape(x.Shape)}");
        int m = x.Shape[^1];
        int count = m == 0 ? 0 : (int)(x.Data.Numel / (m * m));
        var a = x.Data.Contiguous().To(DType.Float64).ToArray<double>();
        var det = new double[count];
        var slope = new double[a.Length];   // ∂det/∂A = det·A⁻ᵀ (the cofactors)
        for (int b = 0; b < count; b++)
        {
            var lu = a.AsSpan(b * m * m, m * m).ToArray();
            var perm = Enumerable.Range(0, m).ToArray();
            double d = 1;
            for (int k = 0; k < m && d != 0; k++)
            {
                int p = k;
                for (int i = k + 1; i < m; i++) if (Math.Abs(lu[i * m + k]) > Math.Abs(lu[p * m + k])) p = i;
                if (lu[p * m + k] == 0) { d = 0; break; }
                if (p != k)
                {
                    for (int j = 0; j < m; j++) (lu[k * m + j], lu[p * m + j]) = (lu[p * m + j], lu[k * m + j]);
                    (perm[k], perm[p]) = (perm[p], perm[k]);
                    d = -d;
                }
                d *= lu[k * m + k];
                for (int i = k + 1; i < m; i++)
                {
                    double factor = lu[i * m + k] / lu[k * m + k];
                    lu[i * m + k] = factor;
                    for (int j = k + 1; j < m; j++) lu[i * m + j] -= factor * lu[k * m + j];
                }
            }
            det[b] = d;
            if (d == 0 || !x.RequiresGrad) continue;
            // A⁻¹ column by column from the LU factors, then det·A⁻ᵀ
            for (int col = 0; col < m; col++)
            {
                var e = new double[m];
                for (int i = 0; i < m; i++) e[i] = perm[i] == col ? 1 : 0;
                for (int i = 0; i < m; i++) for (int j = 0; j < i; j++) e[i] -= lu[i * m + j] * e[j];
                for (int i = m - 1; i >= 0; i--)
                {
                    for (int j = i + 1; j < m; j++) e[i] -= lu[i * m + j] * e[j];
                    e[i] /= lu[i * m + i];
                }
                // e is column `col` of A⁻¹: (A⁻ᵀ)[col, i] = A⁻¹[i, col]
                for (int i = 0; i < m; i++) slope[b * m * m + col * m + i] = d * e[i];
            }
        }
        int[] shape = x.Shape[..^2].ToArray();
        using var dt = Tensor.FromArray(det).Reshape(shape);
        var value = Constant(dt.To(x.DType).To(x.Device));
        if (!x.RequiresGrad) return [value];
        using var st = Tensor.FromArray(slope).Reshape([.. x.Shape]);
        var linear = (Constant(st.To(x.DType).To(x.Device)) * (x - Constant(x.Data.Clone()))).Sum([x.Rank - 2, x.Rank - 1]);
        return [value + linear];
    }
}
