namespace Engine.Optim;

/// <summary>
/// Updates parameters from their gradients, like PyTorch's <c>torch.optim.Optimizer</c>: parameter
/// groups with their own hyperparameters (<see cref="ParamGroup"/>), per-parameter state that survives
/// across steps (<see cref="ParameterState"/>), and a state dict to save and restore it. A training step:
/// <code>
/// using (Tensor.Scope())
/// {
///     optimizer.ZeroGrad();
///     var loss = Functional.CrossEntropy(model(x), y);
///     loss.Backward();
///     optimizer.Step();
/// }
/// </code>
/// The state's tensors belong to the optimizer (no tensor scope disposes them); dispose the optimizer
/// to release them.
/// </summary>
/// <remarks>
/// A subclass lists its hyperparameters (<see cref="Hyperparameter"/>, which must include <c>lr</c> and
/// <c>weight_decay</c>), names the buffers it keeps per parameter (<see cref="StateBufferNames"/>) and
/// writes the update rule (<see cref="Update"/>). <see cref="Step"/> does the rest: it skips frozen
/// parameters and parameters without a gradient, creates missing buffers, counts steps, runs each
/// update inside its own tensor scope with recording off, and checks shapes.
/// </remarks>
public abstract partial class Optimizer : IDisposable
{
    private readonly List<ParamGroup> _groups = [];
    private readonly Dictionary<Parameter, ParameterState> _state = new(ReferenceEqualityComparer.Instance);
    private readonly Hyperparameter[] _hyperparameters;
    private readonly Dictionary<string, Hyperparameter> _byName = [];
    private bool _disposed;

    /// <summary>One group of <paramref name="parameters"/> with the defaults in <paramref name="hyperparameters"/>.</summary>
    protected Optimizer(IEnumerable<Parameter> parameters, IReadOnlyList<Hyperparameter> hyperparameters)
        : this([new ParamGroup(parameters ?? throw new ArgumentNullException(nameof(parameters)))], hyperparameters) { }

    /// <summary>
    /// The given groups; what a group does not set comes from the defaults in
    /// <paramref name="hyperparameters"/>.
    /// </summary>
    protected Optimizer(IEnumerable<ParamGroup> groups, IReadOnlyList<Hyperparameter> hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(hyperparameters);
        _hyperparameters = [.. hyperparameters];
        foreach (var h in _hyperparameters)
            if (!_byName.TryAdd(h.Name, h)) throw new ArgumentException($"{Name}: hyperparameter '{h.Name}' is listed twice", nameof(hyperparameters));
        foreach (string required in (string[])["lr", "weight_decay"])
            if (!_byName.ContainsKey(required)) throw new ArgumentException($"{Name}: the hyperparameters must include '{required}'", nameof(hyperparameters));
        foreach (var h in _hyperparameters)
            if (h.Check(h.DefaultValue) is { } rule) throw new EngineException($"{Name}: {h.Name} = {h.DefaultValue}: {rule}");
        foreach (var g in groups) AddParamGroup(g);
        if (_groups.Sum(g => g.Parameters.Count) == 0) throw new EngineException($"{Name}: got an empty parameter list");
    }

    /// <summary>The optimizer's name in messages (its type name: <c>SGD</c>, <c>Adam</c>, …).</summary>
    public string Name => GetType().Name;

    /// <summary>The parameter groups, in order; their parameters are numbered in this order in the state dict.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The hyperparameters every group has, with their defaults and valid ranges.</summary>
    public IReadOnlyList<Hyperparameter> Hyperparameters => _hyperparameters;

    /// <summary>
    /// Adds a group (PyTorch's <c>add_param_group</c>), for example to start training layers that were
    /// frozen. Unset hyperparameters take the optimizer's defaults. A parameter may belong to one group
    /// only, and a group to one optimizer only.
    /// </summary>
    public void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        ThrowIfDisposed("AddParamGroup");
        string where = $"param_groups.{_groups.Count}";
        if (group.Owner is not null) throw new EngineException($"{Name}.AddParamGroup: {where}: the group already belongs to an optimizer");
        foreach (var (name, value) in group.Hyperparameters) CheckValue(where, name, value);
        var seen = new HashSet<Parameter>(_groups.SelectMany(g => g.Parameters), ReferenceEqualityComparer.Instance);
        foreach (var p in group.Parameters)
            if (!seen.Add(p)) throw new EngineException($"{Name}: {where}: parameter {Describe(p)} appears more than once in the optimizer's groups");
        var filled = new List<string>();
        foreach (var h in _hyperparameters)
            if (!group.Contains(h.Name))
            {
                group.SetUnchecked(h.Name, h.DefaultValue);
                filled.Add(h.Name);
            }
        if (ValidateGroup(group) is { } problem)
        {
            foreach (var name in filled) group.RemoveUnchecked(name);
            throw new EngineException($"{Name}: {where}: {problem}");
        }
        group.Owner = this;
        _groups.Add(group);
    }

    /// <summary>
    /// Applies one update to every parameter that requires gradients and has one (<see cref="Variable.Grad"/>
    /// not null); frozen parameters and parameters without a gradient are left untouched, state included.
    /// The parameters' tensors are changed in place.
    /// </summary>
    public void Step()
    {
        ThrowIfDisposed("Step");
        using var noGrad = GradMode.NoGrad();
        int index = 0;
        foreach (var group in _groups)
            foreach (var p in group.Parameters)
            {
                int i = index++;
                if (!p.RequiresGrad || p.Grad is not { } g) continue;
                var grad = g.Data;
                if (!grad.Shape.SequenceEqual(p.Data.Shape))
                    throw Errors.ShapeError($"{Name}.Step: {Label(i, p)}", p.Data.Shape, grad.Shape, "the gradient's shape differs from the parameter's");
                if (grad.DType != p.Data.DType)
                    throw Errors.DTypeError($"{Name}.Step", $"{Label(i, p)} is {p.Data.DType.Name()} but its gradient is {grad.DType.Name()}");
                if (!_state.TryGetValue(p, out var state)) _state[p] = state = new ParameterState();
                using (Tensor.Scope())
                {
                    if (CountsSteps)
                    {
                        EnsureBuffers(group, p.Data, state);
                        state.Step++;
                    }
                    Update(group, p.Data, grad, state);
                }
            }
    }

    /// <summary>
    /// Clears every parameter's gradient: by default sets it to null (PyTorch's <c>set_to_none</c>),
    /// otherwise fills it with zeros.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var group in _groups)
            foreach (var p in group.Parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>The state kept for <paramref name="parameter"/>, or null before its first update.</summary>
    public ParameterState? GetState(Parameter parameter) => _state.GetValueOrDefault(parameter);

    /// <summary>Releases the state's tensors; the optimizer cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _state.Values) s.Clear();
        _state.Clear();
        foreach (var g in _groups) g.Owner = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The update rule: changes <paramref name="param"/> in place from <paramref name="grad"/>, using and
    /// updating <paramref name="state"/>. Runs inside a tensor scope (temporaries are disposed) with
    /// recording off; the buffers named by <see cref="StateBufferNames"/> already exist and, when
    /// <see cref="CountsSteps"/>, <see cref="ParameterState.Step"/> already counts this update.
    /// </summary>
    protected abstract void Update(ParamGroup group, Tensor param, Tensor grad, ParameterState state);

    /// <summary>The buffers this optimizer keeps for a parameter of <paramref name="group"/> (they depend on its hyperparameters).</summary>
    protected abstract IReadOnlyList<string> StateBufferNames(ParamGroup group);

    /// <summary>
    /// True (the default) when the optimizer counts steps per parameter and creates its buffers before
    /// the first update; false for an optimizer that manages its own buffers (SGD's momentum buffer
    /// starts as the first gradient, so it cannot be created in advance).
    /// </summary>
    protected virtual bool CountsSteps => true;

    /// <summary>The initial value of buffer <paramref name="name"/> for <paramref name="param"/>: zeros unless overridden.</summary>
    protected virtual Tensor CreateBuffer(string name, Tensor param, ParamGroup group) => Tensor.ZerosLike(param);

    /// <summary>A rule that ties several hyperparameters of a group together; returns what is wrong, or null.</summary>
    protected virtual string? ValidateGroup(ParamGroup group) => null;

    /// <summary>Throws if <paramref name="name"/> is not one of this optimizer's hyperparameters or <paramref name="value"/> is out of its range.</summary>
    internal void CheckValue(ParamGroup group, string name, double value) =>
        CheckValue($"param_groups.{IndexOf(group)}", name, value);

    /// <summary>Throws if the group breaks <see cref="ValidateGroup"/>.</summary>
    internal void CheckGroup(ParamGroup group)
    {
        if (ValidateGroup(group) is { } problem) throw new EngineException($"{Name}: param_groups.{IndexOf(group)}: {problem}");
    }

    private void CheckValue(string where, string name, double value)
    {
        if (!_byName.TryGetValue(name, out var h))
            throw new EngineException($"{Name}: {where}.{name}: unknown hyperparameter; {Name} takes {string.Join(", ", _hyperparameters.Select(x => x.Name))}");
        if (h.Check(value) is { } rule) throw new EngineException($"{Name}: {where}.{name} = {value}: {rule}");
    }

    private int IndexOf(ParamGroup group) => _groups.IndexOf(group) is var i and >= 0 ? i : _groups.Count;

    private void EnsureBuffers(ParamGroup group, Tensor param, ParameterState state)
    {
        foreach (var name in StateBufferNames(group))
            if (!state.Contains(name)) state.Set(name, CreateBuffer(name, param, group));
    }

    private void ThrowIfDisposed(string op)
    {
        if (_disposed) throw new ObjectDisposedException(Name, $"{Name}.{op}: the optimizer was disposed");
    }

    private static string Label(int index, Parameter p) => p.Name is { } n ? $"parameter {index} '{n}'" : $"parameter {index}";

    private static string Describe(Parameter p) => p.Name is { } n ? $"'{n}' {Errors.Shape(p.Shape)}" : Errors.Shape(p.Shape);
}
