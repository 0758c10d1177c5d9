namespace Engine.Optim;

/// <summary>
/// What an optimizer remembers about one parameter between steps: the number of updates applied
/// (<see cref="Step"/>) and named buffers with the parameter's shape (<c>exp_avg</c>,
/// <c>momentum_buffer</c>, …). The buffers belong to the optimizer: no tensor scope disposes them,
/// <see cref="Optimizer.Dispose"/> does.
/// </summary>
public sealed class ParameterState
{
    private readonly Dictionary<string, Tensor> _buffers = [];

    internal ParameterState() { }

    /// <summary>The number of updates applied to the parameter (PyTorch's <c>state['step']</c>).</summary>
    public long Step { get; set; }

    /// <summary>The names of the buffers held, in the order they were added.</summary>
    public IEnumerable<string> Names => _buffers.Keys;

    /// <summary>True when a buffer called <paramref name="name"/> is held.</summary>
    public bool Contains(string name) => _buffers.ContainsKey(name);

    /// <summary>The buffer called <paramref name="name"/>; updating it in place updates the state.</summary>
    public Tensor this[string name] =>
        _buffers.TryGetValue(name, out var t) ? t : throw new EngineException($"ParameterState: no buffer '{name}'");

    /// <summary>
    /// Makes <paramref name="value"/> the buffer called <paramref name="name"/>: takes it out of any
    /// tensor scope (the state owns it from now on) and disposes the buffer it replaces.
    /// </summary>
    public void Set(string name, Tensor value)
    {
        TensorScope.Escape(value);
        if (_buffers.TryGetValue(name, out var old) && !ReferenceEquals(old, value)) old.Dispose();
        _buffers[name] = value;
    }

    /// <summary>Disposes every buffer and forgets the step count.</summary>
    internal void Clear()
    {
        foreach (var t in _buffers.Values) t.Dispose();
        _buffers.Clear();
        Step = 0;
    }
}
