namespace Engine.Optim;

/// <summary>
/// A set of parameters that share hyperparameters, like an entry of PyTorch's
/// <c>optimizer.param_groups</c>: a backbone with a small learning rate and a head with a larger one,
/// or biases without weight decay. A group names only what it overrides; the optimizer fills the rest
/// from its defaults when it takes the group, and from then on checks every change against its rules.
/// <code>
/// var opt = new SGD([
///     new ParamGroup(backbone, learningRate: 1e-3),
///     new ParamGroup(head) { ["momentum"] = 0.5 },
/// ], lr: 0.1, momentum: 0.9);
/// </code>
/// </summary>
public sealed class ParamGroup
{
    private readonly List<Parameter> _parameters;
    private readonly Dictionary<string, double> _values = [];

    /// <summary>A group of <paramref name="parameters"/>, optionally with its own learning rate and weight decay.</summary>
    public ParamGroup(IEnumerable<Parameter> parameters, double? learningRate = null, double? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = [.. parameters];
        for (int i = 0; i < _parameters.Count; i++)
            if (_parameters[i] is null) throw new EngineException($"ParamGroup: parameter {i} is null");
        if (learningRate is { } lr) this["lr"] = lr;
        if (weightDecay is { } wd) this["weight_decay"] = wd;
    }

    /// <summary>The parameters, in the order given (the order of the state dict's indices).</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The learning rate (<c>lr</c>); schedulers change it between steps.</summary>
    public double LearningRate
    {
        get => this["lr"];
        set => this["lr"] = value;
    }

    /// <summary>The weight decay (<c>weight_decay</c>); what it means depends on the optimizer (L2 or decoupled).</summary>
    public double WeightDecay
    {
        get => this["weight_decay"];
        set => this["weight_decay"] = value;
    }

    /// <summary>
    /// A hyperparameter by its state-dict name (<c>momentum</c>, <c>beta1</c>, <c>nesterov</c> as 0 or 1, …).
    /// Once an optimizer holds the group, setting an unknown name or a value outside its range throws
    /// and leaves the group unchanged.
    /// </summary>
    public double this[string name]
    {
        get => _values.TryGetValue(name, out var v)
            ? v
            : throw new EngineException($"ParamGroup: '{name}' is not set (an optimizer fills unset hyperparameters with its defaults when it takes the group)");
        set
        {
            ArgumentNullException.ThrowIfNull(name);
            if (Owner is null)
            {
                if (!double.IsFinite(value)) throw new EngineException($"ParamGroup: {name} = {value}: must be a finite number");
                _values[name] = value;
                return;
            }
            Owner.CheckValue(this, name, value);
            bool had = _values.TryGetValue(name, out var old);
            _values[name] = value;
            try { Owner.CheckGroup(this); }
            catch
            {
                if (had) _values[name] = old;
                else _values.Remove(name);
                throw;
            }
        }
    }

    /// <summary>True when the group sets <paramref name="name"/> (always true for the optimizer's names once it holds the group).</summary>
    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>Every hyperparameter the group sets.</summary>
    public IReadOnlyDictionary<string, double> Hyperparameters => _values;

    /// <summary>The optimizer holding this group, which validates changes; null until one takes it.</summary>
    internal Optimizer? Owner { get; set; }

    /// <summary>Sets a value without the owner's checks (the owner validated it already).</summary>
    internal void SetUnchecked(string name, double value) => _values[name] = value;

    /// <summary>Removes a value set by <see cref="SetUnchecked"/> (rollback of a rejected group).</summary>
    internal void RemoveUnchecked(string name) => _values.Remove(name);
}
