namespace Engine.Layers;

/// <summary>Modules applied one after another; they are named 0, 1, 2, … (as in PyTorch).</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Appends a module (named by its position); returns this.</summary>
    public Sequential Add(Module layer)
    {
        _layers.Add(RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
        return this;
    }

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <summary>Module <paramref name="i"/>.</summary>
    public Module this[int i] => _layers[i];

    /// <inheritdoc/>
    public override Variable Forward(Variable x)
    {
        foreach (var l in _layers) x = l.Call(x);
        return x;
    }
}
