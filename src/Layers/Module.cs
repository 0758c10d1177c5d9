using System.Text;

namespace Engine.Layers;

/// <summary>
/// A layer or a model: a tree of named sub-modules, parameters (trainable leaves) and buffers
/// (persistent non-trainable tensors such as running statistics). Names are dotted paths from the
/// root (<c>features.0.weight</c>), the keys of <see cref="StateDict"/>.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Parameter Value)> _parameters = [];
    private readonly List<(string Name, Tensor Value)> _buffers = [];
    private readonly List<(string Name, Module Value)> _children = [];

    /// <summary>True in training mode (dropout active, batch norm on batch statistics); see <see cref="Train"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>True when <see cref="Freeze"/> was called on this module or an ancestor.</summary>
    public bool IsFrozen { get; private set; }

    /// <summary>The layer's type name in summaries.</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>The computation: the output for <paramref name="x"/>.</summary>
    public abstract Variable Forward(Variable x);

    /// <summary>Runs <see cref="Forward"/> (as calling a PyTorch module does); composite modules call their children this way.</summary>
    public Variable Call(Variable x)
    {
        var y = Forward(x);
        s_observer?.Invoke(this, y);
        return y;
    }

    /// <summary>Adds a parameter owned by this module under <paramref name="name"/>.</summary>
    protected Parameter RegisterParameter(string name, Tensor data)
    {
        CheckName(name);
        var p = new Parameter(data, name);
        _parameters.Add((name, p));
        return p;
    }

    /// <summary>Adds a persistent tensor (saved in the state dict, never trained) under <paramref name="name"/>.</summary>
    protected Tensor RegisterBuffer(string name, Tensor data)
    {
        CheckName(name);
        var t = TensorScope.Escape(data);
        _buffers.Add((name, t));
        return t;
    }

    /// <summary>Adds a sub-module under <paramref name="name"/>; its parameters are renamed <c>name.…</c>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        foreach (var (n, p) in module.NamedParameters()) p.Name = $"{name}.{n}";
        if (!IsTraining) module.Train(false);
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new EngineException($"{TypeName}: '{name}' is not a valid name (non-empty, without dots)");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new EngineException($"{TypeName}: the name '{name}' is already used");
    }

    /// <summary>The direct sub-modules with their names.</summary>
    public IReadOnlyList<(string Name, Module Value)> Children => _children;

    /// <summary>Every parameter of this module and its descendants, with dotted names, in registration order.</summary>
    public IEnumerable<(string Name, Parameter Value)> NamedParameters()
    {
        foreach (var p in _parameters) yield return p;
        foreach (var (name, child) in _children)
            foreach (var (n, p) in child.NamedParameters()) yield return ($"{name}.{n}", p);
    }

    /// <summary>Every parameter (optionally only those that are not frozen).</summary>
    public IEnumerable<Parameter> Parameters(bool trainableOnly = false) =>
        NamedParameters().Select(p => p.Value).Where(p => !trainableOnly || p.RequiresGrad);

    /// <summary>Every buffer, with dotted names.</summary>
    public IEnumerable<(string Name, Tensor Value)> NamedBuffers()
    {
        foreach (var b in _buffers) yield return b;
        foreach (var (name, child) in _children)
            foreach (var (n, b) in child.NamedBuffers()) yield return ($"{name}.{n}", b);
    }

    /// <summary>This module and every descendant, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Value)> NamedModules()
    {
        yield return ("", this);
        foreach (var (name, child) in _children)
            foreach (var (n, m) in child.NamedModules()) yield return (n.Length == 0 ? name : $"{name}.{n}", m);
    }

    /// <summary>The descendant at a dotted path (<c>features.0</c>).</summary>
    public Module GetModule(string path)
    {
        foreach (var (n, m) in NamedModules())
            if (n == path) return m;
        throw new EngineException($"{TypeName}: no sub-module named '{path}'; sub-modules: {string.Join(", ", NamedModules().Select(m => m.Name).Where(n => n.Length > 0))}");
    }

    /// <summary>Sets training (or evaluation) mode on this module and every descendant; returns this.</summary>
    public Module Train(bool training = true)
    {
        foreach (var (_, m) in NamedModules()) m.IsTraining = training;
        return this;
    }

    /// <summary>Evaluation mode (PyTorch's <c>eval()</c>); returns this.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Stops training this sub-tree: its parameters stop requiring gradients (optimizers skip them)
    /// and its batch norms use their running statistics even in training mode. Returns this.
    /// </summary>
    public Module Freeze()
    {
        foreach (var (_, m) in NamedModules()) m.IsFrozen = true;
        foreach (var p in Parameters()) p.SetRequiresGrad(false);
        return this;
    }

    /// <summary>Makes this sub-tree trainable again; returns this.</summary>
    public Module Unfreeze()
    {
        foreach (var (_, m) in NamedModules()) m.IsFrozen = false;
        foreach (var p in Parameters()) p.SetRequiresGrad(true);
        return this;
    }

    /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place (gradients are dropped); create the optimizer after.</summary>
    public Module To(Device device)
    {
        try { device.CheckAvailable(); }
        catch (DeviceException e) { throw new DeviceException($"{TypeName}.To: {e.Message}"); }
        foreach (var p in Parameters())
        {
            p.ZeroGrad();
            p.Data.MoveTo(device);
        }
        foreach (var (_, b) in NamedBuffers()) b.MoveTo(device);
        return this;
    }

    /// <summary>The device of the first parameter (the CPU for a module without parameters).</summary>
    public Device Device => Parameters().FirstOrDefault()?.Device ?? Device.Cpu;

    /// <summary>Parameters and buffers by dotted name: the tensors themselves (not copies).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (n, p) in NamedParameters()) d[n] = p.Data;
        foreach (var (n, b) in NamedBuffers()) d[n] = b;
        return d;
    }

    /// <summary>
    /// Copies values into this module's parameters and buffers by name. A shape or dtype that
    /// differs is an error naming the tensor and both shapes, checked for every entry before
    /// anything is copied; with <paramref name="strict"/>, so are missing and unexpected names.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new EngineException($"{TypeName}.LoadStateDict: " +
                    (missing.Count > 0 ? $"missing {string.Join(", ", missing)}" : "") +
                    (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                    (unexpected.Count > 0 ? $"unexpected {string.Join(", ", unexpected)}" : ""));
        }
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var source)) continue;
            if (!source.Shape.SequenceEqual(target.Shape))
                throw Errors.ShapeError($"{TypeName}.LoadStateDict: {name}", source.Shape, target.Shape, "the checkpoint's shape differs from the model's (a different architecture?)");
            if (source.DType != target.DType)
                throw Errors.DTypeError($"{TypeName}.LoadStateDict: {name}", $"the checkpoint holds {source.DType.Name()} but the model {target.DType.Name()}");
        }
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var source)) target.CopyFrom(source);
    }

    /// <summary>Saves the state dict to a safetensors file (atomically).</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => SafeTensors.Save(path, StateDict(), metadata);

    /// <summary>Loads a safetensors file into this module (see <see cref="LoadStateDict"/>).</summary>
    public void Load(string path, bool strict = true)
    {
        var state = SafeTensors.Load(path);
        try { LoadStateDict(state, strict); }
        finally { foreach (var t in state.Values) t.Dispose(); }
    }

    /// <summary>Number of parameter elements: (trainable, frozen).</summary>
    public (long Trainable, long Frozen) ParameterCounts()
    {
        long trainable = 0, frozen = 0;
        foreach (var p in Parameters())
            if (p.RequiresGrad) trainable += p.Numel; else frozen += p.Numel;
        return (trainable, frozen);
    }

    /// <summary>
    /// A table of the sub-modules with their output shapes for an input of <paramref name="inputShape"/>
    /// (computed by running the model once on zeros, without recording) and parameter counts, then
    /// the trainable and frozen totals.
    /// </summary>
    public string Summary(params int[] inputShape)
    {
        var shapes = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        if (inputShape.Length > 0)
        {
            using var scope = Tensor.Scope();
            using var noGrad = GradMode.NoGrad();
            bool wasTraining = IsTraining;
            Eval();
            s_observer = (m, y) => shapes[m] = Errors.Shape(y.Shape);
            try { Call(new Variable(Tensor.Zeros(inputShape))); }
            finally
            {
                s_observer = null;
                Train(wasTraining);
            }
        }
        var sb = new StringBuilder();
        sb.AppendLine($"{"layer",-32} {"type",-18} {"output",-20} {"params",12}");
        foreach (var (name, m) in NamedModules())
        {
            long own = m._parameters.Sum(p => p.Value.Numel);
            string label = name.Length == 0 ? "(model)" : name;
            sb.AppendLine($"{label,-32} {m.TypeName,-18} {(shapes.TryGetValue(m, out var s) ? s : ""),-20} {own,12:N0}");
        }
        var (trainable, frozen) = ParameterCounts();
        sb.AppendLine($"parameters: {trainable + frozen:N0} ({trainable:N0} trainable, {frozen:N0} frozen)");
        return sb.ToString();
    }

    [ThreadStatic] private static Action<Module, Variable>? s_observer;
}
