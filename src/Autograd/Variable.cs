using Engine.Functions;

namespace Engine;

/// <summary>
/// A node of the define-by-run graph: a tensor (<see cref="Data"/>), the function that produced it
/// (<see cref="GradFn"/>, null for leaves) and, after <see cref="Backward"/>, the gradient of the
/// loss with respect to it (<see cref="Grad"/>, kept for leaves). Operations on variables mirror
/// the tensor API; those on variables that require gradients are recorded while
/// <see cref="GradMode.IsEnabled"/>.
/// </summary>
public partial class Variable
{
    /// <summary>A leaf holding <paramref name="data"/>.</summary>
    public Variable(Tensor data, bool requiresGrad = false, string? name = null)
    {
        Data = data;
        Name = name;
        if (requiresGrad) SetRequiresGrad(true);
    }

    /// <summary>A result recorded in the graph.</summary>
    internal Variable(Tensor data, Function gradFn)
    {
        Data = data;
        GradFn = gradFn;
        RequiresGrad = true;
    }

    /// <summary>The values.</summary>
    public Tensor Data { get; }

    /// <summary>∂L/∂this after a backward pass (leaves only), or null.</summary>
    public Variable? Grad { get; set; }

    /// <summary>Whether gradients flow to this variable; a leaf changes it with <see cref="SetRequiresGrad"/>.</summary>
    public bool RequiresGrad { get; private set; }

    /// <summary>The function that produced this variable, or null for a leaf.</summary>
    public Function? GradFn { get; }

    /// <summary>A label for graph dumps and messages (parameters get their dotted names).</summary>
    public string? Name { get; set; }

    /// <summary>True for variables created by the user rather than by an op.</summary>
    public bool IsLeaf => GradFn is null;

    private List<Action<Variable>>? _gradReadyHooks;

    /// <summary>
    /// Calls <paramref name="hook"/> during each <see cref="Backward"/> as soon as this leaf's gradient
    /// for that backward is complete (every use of the leaf has sent its share to <see cref="Grad"/>),
    /// while the rest of the backward still runs: what data-parallel training starts reducing gradients
    /// on, as PyTorch's DDP does. Not called by <see cref="Autograd.Grad"/>, which leaves Grad alone.
    /// Dispose the result to remove the hook.
    /// </summary>
    public IDisposable OnGradReady(Action<Variable> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!IsLeaf) throw new AutogradException("OnGradReady: only a leaf (a parameter or an input) accumulates a gradient; this variable was computed");
        (_gradReadyHooks ??= []).Add(hook);
        return new HookHandle(this, hook);
    }

    internal bool HasGradReadyHooks => _gradReadyHooks is { Count: > 0 };

    internal void RunGradReadyHooks()
    {
        foreach (var hook in _gradReadyHooks!.ToArray()) hook(this);
    }

    private sealed class HookHandle(Variable owner, Action<Variable> hook) : IDisposable
    {
        public void Dispose() => owner._gradReadyHooks?.Remove(hook);
    }

    /// <summary>The shape of <see cref="Data"/>.</summary>
    public Shape Shape => Data.Shape;

    /// <summary>The number of dims.</summary>
    public int Rank => Data.Rank;

    /// <summary>The number of elements.</summary>
    public long Numel => Data.Numel;

    /// <summary>The element type.</summary>
    public DType DType => Data.DType;

    /// <summary>The device.</summary>
    public Device Device => Data.Device;

    /// <summary>The size of one dim (negative counts from the end).</summary>
    public int Size(int dim) => Data.Size(dim);

    /// <summary>A constant (no gradient) wrapping <paramref name="t"/>, so tensors mix with variables in expressions.</summary>
    public static implicit operator Variable(Tensor t) => new(t);

    /// <summary>Sets whether this leaf requires gradients (PyTorch's <c>requires_grad_</c>); returns this.</summary>
    public Variable SetRequiresGrad(bool requiresGrad = true)
    {
        if (!IsLeaf)
            throw new AutogradException($"SetRequiresGrad: only leaves can change it; this variable was produced by {GradFn!.Name}. Use Detach() for a leaf copy");
        if (requiresGrad && !Data.DType.IsFloating())
            throw new AutogradException($"SetRequiresGrad: only floating tensors can require gradients, not {Data.DType.Name()}");
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>A leaf sharing this variable's data, cut off from the graph.</summary>
    public Variable Detach() => new(Data, name: Name);

    /// <summary>
    /// Computes the gradients of this variable with respect to every leaf that requires them and
    /// adds them into the leaves' <see cref="Grad"/>. A scalar needs no seed; otherwise pass
    /// ∂L/∂this as <paramref name="gradient"/>. The graph's saved values are freed unless
    /// <paramref name="retainGraph"/>; with <paramref name="createGraph"/> the backward pass is
    /// itself recorded, so the gradients can be differentiated again.
    /// </summary>
    public void Backward(Variable? gradient = null, bool retainGraph = false, bool createGraph = false) =>
        Autograd.RunBackward([this], gradient is null ? null : [gradient], retainGraph || createGraph, createGraph, null);

    /// <summary>
    /// Clears the gradient: by default sets it to null and releases its memory (PyTorch's
    /// <c>set_to_none</c>); with <paramref name="setToNone"/> false, fills it with zeros instead.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (Grad is null) return;
        if (setToNone)
        {
            if (Grad.IsLeaf && !Grad.RequiresGrad) Grad.Data.Dispose();
            Grad = null;
        }
        else Grad.Data.ZeroInPlace();
    }

    /// <summary>The data with the graph link, like PyTorch's <c>tensor(..., grad_fn=&lt;Mul&gt;)</c>.</summary>
    public override string ToString()
    {
        string s = Data.ToString();
        string tag = GradFn is { } f ? $", grad_fn={f.Name}" : RequiresGrad ? ", requires_grad=True" : "";
        return tag.Length == 0 ? s : s[..^1] + tag + ")";
    }

    /// <summary>Applies <paramref name="f"/> to the inputs and returns its (recorded) result.</summary>
    internal static Variable Apply(Function f, params Variable[] inputs) => f.Apply(inputs);
}

/// <summary>A trainable leaf: a variable that requires gradients, owned by a model.</summary>
public class Parameter : Variable
{
    /// <summary>Wraps <paramref name="data"/>, which the parameter owns from now on (no tensor scope disposes it).</summary>
    public Parameter(Tensor data, string? name = null) : base(TensorScope.Escape(data), requiresGrad: true, name) { }
}
