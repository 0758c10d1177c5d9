namespace Engine.Optim;

public abstract partial class Optimizer
{
    private const string LoadOp = "Optimizer.LoadStateDict";

    /// <summary>
    /// The optimizer's state as named tensors, ready to be saved beside a model's weights:
    /// <list type="bullet">
    /// <item><c>param_groups.{g}.{name}</c>: each hyperparameter of group g (<c>lr</c>, <c>weight_decay</c>, …), a rank-0 float64 tensor;</item>
    /// <item><c>param_groups.{g}.params</c>: the indices of the group's parameters, an int64 vector;</item>
    /// <item><c>state.{i}.step</c>: the update count of parameter i (numbered across groups in order), a rank-0 float64 tensor;</item>
    /// <item><c>state.{i}.{buffer}</c>: parameter i's buffers (<c>exp_avg</c>, <c>momentum_buffer</c>, …), with its shape and dtype.</item>
    /// </list>
    /// Parameters that were never updated have no <c>state</c> entries. The tensors are copies: later
    /// steps do not change them, and they belong to the caller (to the current tensor scope, if any).
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        ThrowIfDisposed("StateDict");
        var dict = new Dictionary<string, Tensor>();
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            var group = _groups[g];
            foreach (var h in _hyperparameters) dict[$"param_groups.{g}.{h.Name}"] = Tensor.Scalar(group[h.Name], DType.Float64);
            var ids = new long[group.Parameters.Count];
            for (int k = 0; k < ids.Length; k++) ids[k] = index++;
            dict[$"param_groups.{g}.params"] = Tensor.FromArray(ids, ids.Length);
        }
        index = 0;
        foreach (var group in _groups)
            foreach (var p in group.Parameters)
            {
                int i = index++;
                if (!_state.TryGetValue(p, out var s)) continue;
                if (CountsSteps)
                {
                    EnsureBuffers(group, p.Data, s);
                    dict[$"state.{i}.step"] = Tensor.Scalar(s.Step, DType.Float64);
                }
                foreach (var name in StateBufferNames(group))
                    if (s.Contains(name)) dict[$"state.{i}.{name}"] = s[name].Clone();
            }
        return dict;
    }

    /// <summary>
    /// Restores what <see cref="StateDict"/> saved, into an optimizer of the same type over parameters of
    /// the same shapes in the same groups: the groups' hyperparameters and every parameter's state (the
    /// current state is replaced, also for parameters that have none in the dict). Everything is checked
    /// before anything changes; the first problem, in the optimizer's order, is reported with its key:
    /// a missing key, a key this optimizer does not keep, a hyperparameter out of range, or a shape that
    /// differs (<c>Optimizer.LoadStateDict: state.3.exp_avg: [4, 2] x [2, 4]: shapes differ</c>, the
    /// saved shape first, the parameter's second). Buffers are copied, converted to the parameter's dtype.
    /// </summary>
    /// <exception cref="EngineException">A missing or unexpected key, or a value out of range.</exception>
    /// <exception cref="ShapeException">A tensor whose shape differs from the one expected.</exception>
    /// <exception cref="DTypeException">A buffer that is not floating point.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ThrowIfDisposed("LoadStateDict");
        var used = new HashSet<string>(StringComparer.Ordinal);

        // The groups' hyperparameters, checked into detached copies first.
        var loaded = new List<ParamGroup>();
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            var copy = new ParamGroup([]);
            foreach (var h in _hyperparameters)
            {
                string key = $"param_groups.{g}.{h.Name}";
                var t = Require(stateDict, key, used);
                if (t.Rank != 0) throw Errors.ShapeError($"{LoadOp}: {key}", t.Shape, [], "shapes differ");
                double v = t.Item<double>();
                if (h.Check(v) is { } rule) throw new EngineException($"{LoadOp}: {key} = {v}: {rule}");
                copy.SetUnchecked(h.Name, v);
            }
            if (ValidateGroup(copy) is { } problem) throw new EngineException($"{LoadOp}: param_groups.{g}: {problem}");
            string paramsKey = $"param_groups.{g}.params";
            var ids = Require(stateDict, paramsKey, used);
            int count = _groups[g].Parameters.Count;
            if (ids.Rank != 1 || ids.Size(0) != count) throw Errors.ShapeError($"{LoadOp}: {paramsKey}", ids.Shape, [count], "shapes differ");
            var expected = Enumerable.Range(index, count).Select(i => (long)i).ToArray();
            var saved = ids.To(DType.Int64);
            var got = saved.ToArray<long>();
            saved.Dispose();
            if (!got.SequenceEqual(expected))
                throw new EngineException($"{LoadOp}: {paramsKey}: holds parameters [{string.Join(", ", got)}] but group {g} of this optimizer has [{string.Join(", ", expected)}]");
            index += count;
            loaded.Add(copy);
        }

        // Every parameter's state.
        var states = new List<(Parameter P, long Step, List<(string Name, Tensor Saved)> Buffers)>();
        index = 0;
        for (int g = 0; g < _groups.Count; g++)
            foreach (var p in _groups[g].Parameters)
            {
                int i = index++;
                var names = StateBufferNames(loaded[g]);
                string stepKey = $"state.{i}.step";
                bool any = stateDict.ContainsKey(stepKey) || names.Any(n => stateDict.ContainsKey($"state.{i}.{n}"));
                if (!any) continue;
                long step = 0;
                if (CountsSteps)
                {
                    var t = Require(stateDict, stepKey, used, $"parameter {i} has other state");
                    if (t.Rank != 0) throw Errors.ShapeError($"{LoadOp}: {stepKey}", t.Shape, [], "shapes differ");
                    double v = t.Item<double>();
                    if (!(v >= 0 && v <= (1L << 53) && Math.Floor(v) == v)) throw new EngineException($"{LoadOp}: {stepKey} = {v}: must be a whole number >= 0");
                    step = (long)v;
                }
                var buffers = new List<(string, Tensor)>();
                foreach (var n in names)
                {
                    string key = $"state.{i}.{n}";
                    if (!CountsSteps && !stateDict.ContainsKey(key)) continue;
                    var t = Require(stateDict, key, used, $"parameter {i} has other state");
                    if (!t.Shape.SequenceEqual(p.Data.Shape)) throw Errors.ShapeError($"{LoadOp}: {key}", t.Shape, p.Data.Shape, "shapes differ");
                    if (!t.DType.IsFloating()) throw Errors.DTypeError($"{LoadOp}: {key}", $"dtype {t.DType.Name()}: optimizer state must be floating point");
                    buffers.Add((n, t));
                }
                states.Add((p, step, buffers));
            }

        foreach (var key in stateDict.Keys.Order(StringComparer.Ordinal))
            if (!used.Contains(key))
                throw new EngineException($"{LoadOp}: {key}: unexpected key; {Name} keeps param_groups.{{0..{_groups.Count - 1}}}.{{{string.Join(", ", _hyperparameters.Select(h => h.Name))}, params}} and state.{{0..{index - 1}}}.{{{string.Join(", ", StateKeyNames())}}}");

        // Everything checked: apply.
        for (int g = 0; g < _groups.Count; g++)
            foreach (var (name, value) in loaded[g].Hyperparameters) _groups[g].SetUnchecked(name, value);
        foreach (var s in _state.Values) s.Clear();
        _state.Clear();
        foreach (var (p, step, buffers) in states)
        {
            var s = new ParameterState { Step = step };
            foreach (var (name, saved) in buffers) s.Set(name, CopyLike(saved, p.Data));
            _state[p] = s;
        }
    }

    private IEnumerable<string> StateKeyNames()
    {
        var names = new List<string>();
        if (CountsSteps) names.Add("step");
        foreach (var g in _groups)
            foreach (var n in StateBufferNames(g))
                if (!names.Contains(n)) names.Add(n);
        return names;
    }

    private static Tensor Require(IReadOnlyDictionary<string, Tensor> dict, string key, HashSet<string> used, string? why = null)
    {
        if (!dict.TryGetValue(key, out var t) || t is null)
            throw new EngineException($"{LoadOp}: {key}: missing{(why is null ? "" : $" ({why})")}");
        used.Add(key);
        return t;
    }

    /// <summary>A copy of <paramref name="saved"/> with <paramref name="like"/>'s dtype and device.</summary>
    private static Tensor CopyLike(Tensor saved, Tensor like)
    {
        var c = saved.To(like.DType);
        if (c.Device == like.Device) return c;
        var moved = c.To(like.Device);
        c.Dispose();
        return moved;
    }
}
