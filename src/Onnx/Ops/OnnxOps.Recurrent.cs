namespace Engine.Onnx;

// RNN, GRU and LSTM: one direction at a time, the input projections of every step in one MatMul,
// then a loop over the steps written with Variables (so imported recurrent models train), the
// per-sequence lengths as masks that keep each finished sequence's state and zero its outputs.
internal static partial class OnnxOps
{
    private static void RegisterRecurrent(Dictionary<string, OpDef> ops)
    {
        ops["RNN"] = new(c => Recurrent(c, gates: 1), Refuse: RefuseRecurrent);
        ops["GRU"] = new(c => Recurrent(c, gates: 3), Refuse: RefuseRecurrent);
        ops["LSTM"] = new(c => Recurrent(c, gates: 4), Refuse: n =>
            RefuseRecurrent(n) ?? (n.Int("input_forget", 0) != 0 ? "LSTM with input_forget=1 (coupled input and forget gates)" : null));
    }

    private static readonly string[] s_activations =
        ["Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"];

    private static string? RefuseRecurrent(OnnxNode n)
    {
        foreach (var a in n.Attribute("activations")?.Strings.Select(s => s.ToStringUtf8()) ?? [])
            if (!s_activations.Contains(a, StringComparer.OrdinalIgnoreCase)) return $"{n.OpType} activation '{a}'";
        return null;
    }

    /// <summary>An activation by ONNX's name, taking its α and β from the lists in order when it uses them.</summary>
    private static Func<Variable, Variable> Activation(OnnxCall c, string name, Queue<float> alphas, Queue<float> betas)
    {
        float A(float fallback) => alphas.Count > 0 ? alphas.Dequeue() : fallback;
        float B(float fallback) => betas.Count > 0 ? betas.Dequeue() : fallback;
        switch (name.ToLowerInvariant())
        {
            case "relu": return v => v.Relu();
            case "tanh": return v => v.Tanh();
            case "sigmoid": return v => v.Sigmoid();
            case "softsign": return v => v / (v.Abs() + 1.0);
            case "softplus": return Softplus;
            case "affine": { double a = A(1), b = B(0); return v => v * a + b; }
            case "leakyrelu": { double a = A(0.01f); return v => v.LeakyRelu(a); }
            case "thresholdedrelu": { double a = A(1); return v => Variable.Where(v.Data.Gt(a), v, Zero(v)); }
            case "scaledtanh": { double a = A(1), b = B(1); return v => (v * b).Tanh() * a; }
            case "hardsigmoid": { double a = A(0.2f), b = B(0.5f); return v => (v * a + b).Clamp(0, 1); }
            case "elu": { double a = A(1); return v => Elu(v, a); }
            default: throw c.NotSupported($"activation '{name}'");
        }
    }

    private static Variable[] Recurrent(OnnxCall c, int gates)
    {
        string op = c.Node.OpType;
        bool batchFirst = c.Opset >= 14 && c.Int("layout", 0) != 0;
        var x = c.X(0);
        if (x.Rank != 3) throw c.Error($"the input must be 3-D, not {Errors.Shape(x.Shape)}");
        if (batchFirst) x = x.Transpose(0, 1);
        var (w, r, bias) = (c.X(1), c.X(2), c.In(3));
        int seq = x.Shape[0], batch = x.Shape[1];
        string direction = c.String("direction", "forward");
        int directions = direction == "bidirectional" ? 2 : direction is "forward" or "reverse" ? 1 : throw c.Error($"direction '{direction}' is not one of forward, reverse, bidirectional");
        int hidden = c.Has("hidden_size") ? c.Int("hidden_size", 0) : r.Shape[^1];
        if (hidden < 1) throw c.Error($"hidden_size {hidden}");
        if (w.Rank != 3 || w.Shape[0] != directions || w.Shape[1] != gates * hidden || w.Shape[2] != x.Shape[2])
            throw c.Error($"W {Errors.Shape(w.Shape)} is not [{directions}, {gates * hidden}, {x.Shape[2]}]");
        if (r.Rank != 3 || r.Shape[0] != directions || r.Shape[1] != gates * hidden || r.Shape[2] != hidden)
            throw c.Error($"R {Errors.Shape(r.Shape)} is not [{directions}, {gates * hidden}, {hidden}]");
        if (bias is not null && (bias.Rank != 2 || bias.Shape[0] != directions || bias.Shape[1] != 2 * gates * hidden))
            throw c.Error($"B {Errors.Shape(bias.Shape)} is not [{directions}, {2 * gates * hidden}]");
        long[]? lengths = c.Longs(4);
        if (lengths is not null && lengths.Length != batch) throw c.Error($"sequence_lens has {lengths.Length} values for a batch of {batch}");
        if (lengths is not null && lengths.Any(l => l < 0 || l > seq)) throw c.Error($"sequence_lens [{string.Join(", ", lengths)}] must lie in 0 to {seq}");
        Variable? State(int i)
        {
            var s = c.In(i);
            if (s is null) return null;
            if (batchFirst) s = s.Transpose(0, 1);
            return s.Rank == 3 && s.Shape[0] == directions && s.Shape[1] == batch && s.Shape[2] == hidden ? s
                : throw c.Error($"input {i} {Errors.Shape(s.Shape)} is not [{directions}, {batch}, {hidden}]");
        }
        var h0 = State(5);
        var c0 = gates == 4 ? State(6) : null;
        var peephole = gates == 4 ? c.In(7) : null;
        double clip = c.Has("clip") ? c.Float("clip", 0) : double.PositiveInfinity;
        bool linearBeforeReset = c.Int("linear_before_reset", 0) != 0;

        // activations: f (and g, h) per direction, with defaults per op
        string[] defaults = gates switch { 1 => ["Tanh"], 3 => ["Sigmoid", "Tanh"], _ => ["Sigmoid", "Tanh", "Tanh"] };
        var names = c.Node.Attribute("activations")?.Strings.Select(s => s.ToStringUtf8()).ToArray() ?? [];
        if (names.Length == 0) names = [.. Enumerable.Range(0, directions).SelectMany(_ => defaults)];
        if (names.Length != defaults.Length * directions) throw c.Error($"{names.Length} activations; {op} takes {defaults.Length} per direction");
        var alphas = new Queue<float>(c.Floats("activation_alpha") ?? []);
        var betas = new Queue<float>(c.Floats("activation_beta") ?? []);
        var functions = names.Select(n => Activation(c, n, alphas, betas)).ToArray();

        var dtype = x.DType;
        Tensor? Mask(int t)
        {
            if (lengths is null) return null;
            var keep = lengths.Select(l => t < l).ToArray();
            using var m = Tensor.FromArray(keep).Reshape(batch, 1);
            return m.To(x.Device);
        }
        var ys = new List<Variable>();
        var lastH = new List<Variable>();
        var lastC = new List<Variable>();
        for (int d = 0; d < directions; d++)
        {
            bool reverse = direction == "reverse" || d == 1;
            var f = functions[d * defaults.Length];
            var g = defaults.Length > 1 ? functions[d * defaults.Length + 1] : f;
            var hAct = defaults.Length > 2 ? functions[d * defaults.Length + 2] : g;
            var wd = w.Select(0, d);
            var rd = r.Select(0, d);
            // all steps' input projections at once: [seq, batch, gates·hidden]
            var projected = x.MatMul(wd, transposeB: true);
            if (bias is not null)
            {
                var bd = bias.Select(0, d);
                var wb = bd.Narrow(0, 0, gates * hidden);
                var rb = bd.Narrow(0, gates * hidden, gates * hidden);
                // GRU with linear_before_reset keeps Rb's h part inside the reset product
                if (gates == 3 && linearBeforeReset)
                {
                    projected += wb + Variable.Concat([rb.Narrow(0, 0, 2 * hidden), Zero(rb).Expand(hidden)], 0);
                }
                else projected += wb + rb;
            }
            Variable? recurrentBias = gates == 3 && linearBeforeReset && bias is not null ? bias.Select(0, d).Narrow(0, 5 * hidden, hidden) : null;
            var h = h0?.Select(0, d) ?? new Variable(Tensor.Zeros([batch, hidden], dtype, x.Device));
            var cell = c0?.Select(0, d) ?? new Variable(Tensor.Zeros([batch, hidden], dtype, x.Device));
            Variable Clip(Variable v) => double.IsPositiveInfinity(clip) ? v : v.Clamp(-clip, clip);
            Variable Gate(Variable all, int k) => all.Narrow(1, k * hidden, hidden);
            var outputs = new Variable[seq];
            for (int s = 0; s < seq; s++)
            {
                int t = reverse ? seq - 1 - s : s;
                var xt = projected.Select(0, t);
                Variable hNew, cNew = cell;
                switch (gates)
                {
                    case 1:
                        hNew = f(Clip(xt + h.MatMul(rd, transposeB: true)));
                        break;
                    case 3:
                    {
                        var rz = h.MatMul(rd.Narrow(0, 0, 2 * hidden), transposeB: true);
                        var z = f(Clip(Gate(xt, 0) + Gate(rz, 0)));
                        var reset = f(Clip(Gate(xt, 1) + Gate(rz, 1)));
                        var rh = rd.Narrow(0, 2 * hidden, hidden);
                        var candidate = linearBeforeReset
                            ? g(Clip(Gate(xt, 2) + reset * (recurrentBias is null ? h.MatMul(rh, transposeB: true) : h.MatMul(rh, transposeB: true) + recurrentBias)))
                            : g(Clip(Gate(xt, 2) + (reset * h).MatMul(rh, transposeB: true)));
                        hNew = (1.0 - z) * candidate + z * h;
                        break;
                    }
                    default:
                    {
                        var all = xt + h.MatMul(rd, transposeB: true);
                        var pd = peephole?.Select(0, d);
                        var iPre = Gate(all, 0);
                        var fPre = Gate(all, 2);
                        if (pd is not null)
                        {
                            iPre += pd.Narrow(0, 0, hidden) * cell;
                            fPre += pd.Narrow(0, 2 * hidden, hidden) * cell;
                        }
                        var input = f(Clip(iPre));
                        var forget = f(Clip(fPre));
                        var content = g(Clip(Gate(all, 3)));
                        cNew = forget * cell + input * content;
                        var oPre = Gate(all, 1);
                        if (pd is not null) oPre += pd.Narrow(0, hidden, hidden) * cNew;
                        hNew = f(Clip(oPre)) * hAct(cNew);
                        break;
                    }
                }
                var mask = Mask(t);
                if (mask is null)
                {
                    outputs[t] = hNew;
                    h = hNew;
                    cell = cNew;
                }
                else
                {
                    outputs[t] = Variable.Where(mask, hNew, Zero(hNew));
                    h = Variable.Where(mask, hNew, h);
                    cell = Variable.Where(mask, cNew, cell);
                }
            }
            ys.Add(Variable.Stack(outputs, 0));   // [seq, batch, hidden]
            lastH.Add(h);
            lastC.Add(cell);
        }
        var y = Variable.Stack(ys, 1);           // [seq, directions, batch, hidden]
        var yh = Variable.Stack(lastH, 0);       // [directions, batch, hidden]
        var yc = Variable.Stack(lastC, 0);
        if (batchFirst)
        {
            y = y.Permute(2, 0, 1, 3).Contiguous();
            yh = yh.Transpose(0, 1).Contiguous();
            yc = yc.Transpose(0, 1).Contiguous();
        }
        return gates == 4 ? [y, yh, yc] : [y, yh];
    }
}
