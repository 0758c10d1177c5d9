namespace Engine.Onnx;

// Control flow: If, Loop and Scan run their body graphs (prepared at load) in a scope that sees the
// values around them. Loop and Scan stack their per-iteration outputs along a new first axis.
internal static partial class OnnxOps
{
    private static void RegisterControl(Dictionary<string, OpDef> ops)
    {
        ops["If"] = new(c =>
        {
            var cond = c.X(0).Data;
            if (cond.Numel != 1) throw c.Error($"the condition must hold one value, not {Errors.Shape(cond.Shape)}");
            bool taken = cond.To(DType.Float64).Reshape(-1).ToArray<double>()[0] != 0;
            var branch = c.Model.SubgraphOf(c.Node, taken ? "then_branch" : "else_branch");
            return c.Model.RunSubgraph(c.Node, branch, c.Scope, []);
        });
        ops["Loop"] = new(Loop);
        ops["Scan"] = new(Scan, Refuse: n => n.Opset < 9 ? "Scan of opset 8 (with a batch axis and sequence_lens)" : null);
    }

    /// <summary>The most iterations a Loop runs before it is stopped as runaway.</summary>
    private const long MaxIterations = 1 << 24;

    private static Variable[] Loop(OnnxCall c)
    {
        var body = c.Model.SubgraphOf(c.Node, "body");
        long? tripLimit = c.In(0) is { } m ? c.Longs(0)![0] : null;
        bool cond = c.In(1) is not { } cv || cv.Data.To(DType.Float64).Reshape(-1).ToArray<double>()[0] != 0;
        var carried = Enumerable.Range(2, Math.Max(c.Count - 2, 0)).Select(i => c.X(i)).ToList();
        int scans = body.Outputs.Count - 1 - carried.Count;
        if (scans < 0) throw c.Error($"the body has {body.Outputs.Count} outputs for {carried.Count} loop-carried values (it needs 1 + {carried.Count} at least)");
        var scanned = Enumerable.Range(0, scans).Select(_ => new List<Variable>()).ToList();
        long trip = 0;
        while ((tripLimit is not { } limit || trip < limit) && cond)
        {
            if (trip >= MaxIterations) throw c.NotSupported($"a Loop of more than {MaxIterations} iterations");
            var outputs = c.Model.RunSubgraph(c.Node, body, c.Scope,
                [Constant(Tensor.Scalar(trip, DType.Int64)), Constant(Tensor.Scalar(cond ? 1 : 0, DType.Bool)), .. carried]);
            cond = outputs[0].Data.To(DType.Float64).Reshape(-1).ToArray<double>()[0] != 0;
            for (int i = 0; i < carried.Count; i++) carried[i] = outputs[1 + i];
            for (int k = 0; k < scans; k++) scanned[k].Add(outputs[1 + carried.Count + k]);
            trip++;
        }
        var results = new List<Variable>(carried);
        foreach (var s in scanned)
            results.Add(s.Count > 0 ? Variable.Stack(s, 0) : Constant(Tensor.Zeros([0], DType.Float32)));
        return [.. results];
    }

    private static Variable[] Scan(OnnxCall c)
    {
        var body = c.Model.SubgraphOf(c.Node, "body");
        int scanInputs = c.Int("num_scan_inputs", 0);
        int states = c.Count - scanInputs;
        if (scanInputs < 1 || states < 0) throw c.Error($"num_scan_inputs {scanInputs} for {c.Count} inputs");
        int scanOutputs = body.Outputs.Count - states;
        if (scanOutputs < 0) throw c.Error($"the body has {body.Outputs.Count} outputs for {states} states");
        long[] Attr(string name, int count) => c.Ints(name) is { } v ? v.Length == count ? v : throw c.Error($"{name} has {v.Length} values for {count}") : new long[count];
        var inAxes = Attr("scan_input_axes", scanInputs);
        var inDirections = Attr("scan_input_directions", scanInputs);
        var outAxes = Attr("scan_output_axes", scanOutputs);
        var outDirections = Attr("scan_output_directions", scanOutputs);
        var values = Enumerable.Range(0, states).Select(i => c.X(i)).ToList();
        var sequences = Enumerable.Range(0, scanInputs).Select(i => c.X(states + i)).ToList();
        var axes = sequences.Select((s, i) => c.Axis(inAxes[i], s.Rank)).ToArray();
        int length = sequences[0].Shape[axes[0]];
        for (int i = 1; i < scanInputs; i++)
            if (sequences[i].Shape[axes[i]] != length) throw c.Error($"scan input {i} has {sequences[i].Shape[axes[i]]} steps; input 0 has {length}");
        var outputs = Enumerable.Range(0, scanOutputs).Select(_ => new List<Variable>()).ToList();
        for (int t = 0; t < length; t++)
        {
            var slices = sequences.Select((s, i) => s.Select(axes[i], inDirections[i] != 0 ? length - 1 - t : t));
            var result = c.Model.RunSubgraph(c.Node, body, c.Scope, [.. values, .. slices]);
            for (int i = 0; i < states; i++) values[i] = result[i];
            for (int k = 0; k < scanOutputs; k++) outputs[k].Add(result[states + k]);
        }
        var results = new List<Variable>(values);
        for (int k = 0; k < scanOutputs; k++)
        {
            var steps = outputs[k];
            if (outDirections[k] != 0) steps.Reverse();
            if (steps.Count == 0) { results.Add(Constant(Tensor.Zeros([0], DType.Float32))); continue; }
            int axis = c.Axis(outAxes[k], steps[0].Rank + 1);
            results.Add(Variable.Stack(steps, axis));
        }
        return [.. results];
    }
}
