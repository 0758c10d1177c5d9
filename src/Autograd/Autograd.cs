namespace Engine;

/// <summary>The backward pass: reverse-mode differentiation over the recorded graph.</summary>
public static class Autograd
{
    /// <summary>
    /// The gradients of <paramref name="outputs"/> (weighted by <paramref name="gradOutputs"/>, or 1
    /// for scalars) with respect to <paramref name="inputs"/>, returned instead of accumulated into
    /// <see cref="Variable.Grad"/>. With <paramref name="createGraph"/> the results are recorded
    /// variables, so they can be differentiated again (Hessian-vector products, gradient
    /// penalties).
    /// </summary>
    /// <remarks>An input that does not influence the outputs gets a zero gradient.</remarks>
    public static Variable[] Grad(Variable[] outputs, Variable[] inputs, Variable[]? gradOutputs = null,
        bool createGraph = false, bool retainGraph = false)
    {
        foreach (var v in inputs)
            if (!v.RequiresGrad)
                throw new AutogradException($"Grad: an input of shape {Errors.Shape(v.Shape)} does not require gradients");
        var captured = RunBackward(outputs, gradOutputs, retainGraph || createGraph, createGraph, inputs)!;
        var result = new Variable[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            result[i] = captured.TryGetValue(inputs[i], out var g) ? g : new Variable(Tensor.ZerosLike(inputs[i].Data));
        return result;
    }

    /// <summary>
    /// The engine. Sorts the graph behind the roots (iteratively: a chain of any length works),
    /// then visits functions from the roots toward the leaves; each receives the sum of the
    /// gradients from all its consumers and passes its input gradients on (+=). Leaves accumulate
    /// into Grad, or, when <paramref name="capture"/> is given, the gradients of those variables are
    /// collected and returned instead.
    /// </summary>
    internal static Dictionary<Variable, Variable>? RunBackward(Variable[] roots, Variable[]? seeds, bool retainGraph, bool createGraph, Variable[]? capture)
    {
        if (seeds is not null && seeds.Length != roots.Length)
            throw new AutogradException($"Backward: {roots.Length} outputs but {seeds.Length} gradients");
        var pending = new Dictionary<Function, Variable>();
        var captured = capture is null ? null : new Dictionary<Variable, Variable>(ReferenceEqualityComparer.Instance);
        var wanted = capture is null ? null : new HashSet<Variable>(capture, ReferenceEqualityComparer.Instance);
        using var mode = GradMode.Set(createGraph);
        for (int r = 0; r < roots.Length; r++)
        {
            var root = roots[r];
            if (!root.RequiresGrad)
                throw new AutogradException($"Backward: the output of shape {Errors.Shape(root.Shape)} does not require gradients (no input requires them, or it was computed under NoGrad)");
            Variable seed;
            if (seeds?[r] is { } s)
            {
                if (!s.Shape.SequenceEqual(root.Shape))
                    throw new AutogradException($"Backward: the gradient's shape {Errors.Shape(s.Shape)} differs from the output's {Errors.Shape(root.Shape)}");
                seed = s;
            }
            else
            {
                if (root.Numel != 1)
                    throw new AutogradException($"Backward: the output of shape {Errors.Shape(root.Shape)} is not a scalar; pass its gradient (for example Backward(ones)) or reduce it first");
                seed = new Variable(Tensor.OnesLike(root.Data));
            }
            Deliver(root, seed, pending, captured, wanted, createGraph);
        }
        var order = TopologicalOrder(roots);
        var waiting = captured is null ? HookedLeaves(order) : null;
        foreach (var f in order)
        {
            if (pending.Remove(f, out var g))
            {
                var grads = f.RunBackward(g);
                for (int i = 0; i < grads.Length; i++)
                    if (grads[i] is { } gi && f.Inputs[i].RequiresGrad)
                        Deliver(f.Inputs[i], gi, pending, captured, wanted, createGraph, Unshared(gi, i, grads, g));
                if (!retainGraph) f.Release();
            }
            if (waiting is not null) GradsDone(f, waiting);
        }
        return captured;
    }

    /// <summary>For each leaf with a gradient-ready hook: how many uses of it the backward will pass.</summary>
    private static Dictionary<Variable, int>? HookedLeaves(List<Function> order)
    {
        Dictionary<Variable, int>? waiting = null;
        foreach (var f in order)
            foreach (var input in f.Inputs)
                if (input.IsLeaf && input.HasGradReadyHooks)
                {
                    waiting ??= new Dictionary<Variable, int>(ReferenceEqualityComparer.Instance);
                    waiting[input] = waiting.GetValueOrDefault(input) + 1;
                }
        return waiting;
    }

    /// <summary>After function <paramref name="f"/>: a hooked leaf whose last use it was has its whole gradient: its hooks run.</summary>
    private static void GradsDone(Function f, Dictionary<Variable, int> waiting)
    {
        foreach (var input in f.Inputs)
        {
            if (!waiting.TryGetValue(input, out int n)) continue;
            if (n > 1) waiting[input] = n - 1;
            else
            {
                waiting.Remove(input);
                input.RunGradReadyHooks();
            }
        }
    }

    /// <summary>
    /// True for a gradient nothing else can see: computed by this backward step (not the upstream
    /// gradient passed through, nor a view of it), returned for one input only, and the sole handle
    /// on its memory. A leaf may adopt such a tensor as its Grad without copying it.
    /// </summary>
    private static bool Unshared(Variable gi, int i, Variable?[] grads, Variable upstream)
    {
        var t = gi.Data;
        if (gi.RequiresGrad || !t.IsSoleOwner || t.SharesStorageWith(upstream.Data)) return false;
        for (int j = 0; j < grads.Length; j++)
            if (j != i && grads[j] is { } gj && gj.Data.SharesStorageWith(t)) return false;
        return true;
    }

    private static void Deliver(Variable v, Variable g, Dictionary<Function, Variable> pending,
        Dictionary<Variable, Variable>? captured, HashSet<Variable>? wanted, bool createGraph, bool unshared = false)
    {
        if (captured is not null)
        {
            if (wanted!.Contains(v))
                captured[v] = captured.TryGetValue(v, out var c) ? c + g : g;
        }
        else if (v.IsLeaf) Accumulate(v, g, createGraph, unshared);
        if (v.GradFn is { } f)
            pending[f] = pending.TryGetValue(f, out var p) ? p + g : g;
    }

    /// <summary>
    /// leaf.Grad += g. Without createGraph the gradient is a plain tensor the leaf owns (no scope
    /// disposes it): an <paramref name="unshared"/> one is adopted as it is, any other copied, so that
    /// a later in-place change to Grad (accumulation, clipping) cannot reach another tensor.
    /// </summary>
    private static void Accumulate(Variable leaf, Variable g, bool createGraph, bool unshared)
    {
        if (createGraph)
        {
            leaf.Grad = leaf.Grad is null ? g : leaf.Grad + g;
            return;
        }
        if (leaf.Grad is { } existing && !existing.RequiresGrad)
            existing.Data.AddInPlace(g.Data);
        else
            leaf.Grad = new Variable(TensorScope.Escape(unshared ? g.Data : g.Data.Clone()));
    }

    /// <summary>Functions reachable from the roots, each before every function it depends on (iterative DFS).</summary>
    internal static List<Function> TopologicalOrder(IEnumerable<Variable> roots)
    {
        var order = new List<Function>();
        var visited = new HashSet<Function>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Function F, int Next)>();
        foreach (var root in roots)
        {
            if (root.GradFn is not { } start || !visited.Add(start)) continue;
            stack.Push((start, 0));
            while (stack.Count > 0)
            {
                var (f, next) = stack.Pop();
                if (next < f.Inputs.Count)
                {
                    stack.Push((f, next + 1));
                    if (f.Inputs[next].GradFn is { } child && visited.Add(child)) stack.Push((child, 0));
                }
                else order.Add(f);
            }
        }
        order.Reverse();
        return order;
    }
}
