using System.Diagnostics;

namespace Engine;

/// <summary>
/// A node of the computation graph: one differentiable operation. <see cref="Forward(Tensor[])"/>
/// computes the result from tensors; <see cref="Backward"/> maps the gradient of the loss with
/// respect to the result, g = ∂L/∂y, to the gradients with respect to each input, written with
/// <see cref="Variable"/> operations so that they can themselves be differentiated
/// (<c>Backward(createGraph: true)</c>). Subclass <see cref="UnaryFunction"/> or
/// <see cref="BinaryFunction"/> for the common arities.
/// </summary>
/// <remarks>
/// Users write their own ops the way the built-in ones are written (<c>docs/autograd.md</c>, "Your own
/// op"): a sealed subclass overriding <c>Forward</c> and <c>Backward</c>, saving what backward needs
/// with <see cref="SaveInputs"/>, <see cref="SaveResult"/> or <see cref="Keep"/>, and called with
/// <c>new Cube().Apply(x)</c>. A Function object is one node of the graph: make a new one per call.
/// </remarks>
public abstract class Function
{
    private Variable[] _inputs = [];
    private Variable[]? _saved;
    private int[]? _savedVersions;
    private Tensor[]? _kept;
    private bool _saveResult;
    private int _resultVersion;
    private Variable? _result;
    private bool _released;
    private bool _applied;
    private bool _recorded;
    [ThreadStatic] private static int t_inBackward;

    /// <summary>The op's name in messages and graph dumps (the class name by default).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>The input variables, in order: the graph's edges toward the leaves.</summary>
    public IReadOnlyList<Variable> Inputs => _inputs;

    /// <summary>Where the forward op was called (file:line), captured only under <see cref="GradMode.DetectAnomaly"/>.</summary>
    public string? CallSite { get; private set; }

    private Tensor? _output;   // for the result's shape and dtype in graph dumps

    /// <summary>The result's shape.</summary>
    public int[] ResultShape => _output?.Shape.ToArray() ?? [];

    /// <summary>The result's dtype.</summary>
    public DType ResultDType => _output?.DType ?? DType.Float32;

    /// <summary>
    /// False for functions whose backward uses kernels that are not themselves recorded (pooling,
    /// normalisation): a second-order gradient through them throws instead of silently being wrong.
    /// </summary>
    protected virtual bool SupportsDoubleBackward => true;

    /// <summary>Computes the result from the inputs' tensors.</summary>
    protected abstract Tensor Forward(Tensor[] inputs);

    /// <summary>Given g = ∂L/∂result, returns ∂L/∂input for each input (null where not needed).</summary>
    protected abstract Variable?[] Backward(Variable g);

    /// <summary>Input <paramref name="i"/> as a variable.</summary>
    protected Variable Input(int i) => _inputs[i];

    /// <summary>The shape of input <paramref name="i"/> (a tensor's shape never changes).</summary>
    protected int[] InputShape(int i) => _inputs[i].Data.Shape.ToArray();

    /// <summary>The element type of input <paramref name="i"/>.</summary>
    protected DType InputDType(int i) => _inputs[i].Data.DType;

    /// <summary>Whether this call is linked into the graph (an input needs a gradient and gradients are recorded): when not, Forward need keep nothing for Backward.</summary>
    protected bool Recorded => _recorded;

    /// <summary>Whether input <paramref name="i"/> needs a gradient (skip computing it otherwise).</summary>
    protected bool NeedsGrad(int i) => _inputs[i].RequiresGrad;

    /// <summary>Saves the inputs at <paramref name="indices"/> (all inputs when none given) for backward, recording their versions.</summary>
    protected void SaveInputs(params int[] indices)
    {
        int n = indices.Length == 0 ? _inputs.Length : indices.Length;
        _saved = new Variable[n];
        _savedVersions = new int[n];
        for (int k = 0; k < n; k++)
        {
            _saved[k] = _inputs[indices.Length == 0 ? k : indices[k]];
            _savedVersions[k] = _saved[k].Data.Version;
        }
    }

    /// <summary>Input saved by <see cref="SaveInputs"/> (by position in that call), checked against in-place changes.</summary>
    protected Variable Saved(int i)
    {
        CheckReleased();
        var v = _saved![i];
        if (v.Data.Version != _savedVersions![i])
            throw new AutogradException($"{Name}: an input of shape {Errors.Shape(v.Data.Shape)} saved for backward was modified in place " +
                $"(version {v.Data.Version}, saved at {_savedVersions[i]}); compute on a copy (Clone) instead");
        return v;
    }

    /// <summary>Keeps the result for backward (ops whose derivative is written in terms of their output: exp, tanh, softmax).</summary>
    protected void SaveResult() => _saveResult = true;

    /// <summary>The result saved by <see cref="SaveResult"/>.</summary>
    protected Variable Result
    {
        get
        {
            CheckReleased();
            var r = _result!;
            if (r.Data.Version != _resultVersion)
                throw new AutogradException($"{Name}: its result of shape {Errors.Shape(r.Data.Shape)}, saved for backward, was modified in place; compute on a copy (Clone) instead");
            return r;
        }
    }

    /// <summary>Keeps constant tensors for backward (indices, masks, statistics).</summary>
    protected void Keep(params Tensor[] tensors) => _kept = tensors;

    /// <summary>Tensor <paramref name="i"/> kept by <see cref="Keep"/>.</summary>
    protected Tensor Kept(int i)
    {
        CheckReleased();
        return _kept![i];
    }

    private void CheckReleased()
    {
        if (_released)
            throw new AutogradException($"{Name}: the graph through this op was freed by an earlier Backward(); " +
                "pass retainGraph: true to the first Backward to run backward through it again");
    }

    /// <summary>
    /// Runs the op on <paramref name="inputs"/>: computes <c>Forward</c> on their tensors and, when an
    /// input requires a gradient and <see cref="GradMode"/> records, links the result into the graph so
    /// that backward calls <c>Backward</c>. Each Function object runs once: create a new one per call.
    /// </summary>
    /// <exception cref="AutogradException">this object was applied before.</exception>
    public Variable Apply(params Variable[] inputs)
    {
        if (_applied)
            throw new AutogradException($"{Name}: this Function object was already applied; it is one node of the graph, so create a new one for each call");
        _applied = true;
        _inputs = inputs;
        bool record = false;
        var tensors = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            tensors[i] = inputs[i].Data;
            record |= inputs[i].RequiresGrad;
        }
        record &= GradMode.IsEnabled;
        _recorded = record;
        if (GradMode.IsAnomalyDetectionEnabled) CallSite = FindCallSite();
        var data = Forward(tensors);
        _output = data;
        if (GradMode.IsAnomalyDetectionEnabled && t_inBackward == 0 && !data.AllFinite())
            throw new AnomalyException($"{Name} produced NaN or infinity in the forward pass from inputs {DescribeInputs()}{At()}");
        if (!record)
        {
            Release();
            return new Variable(data);
        }
        var result = new Variable(data, this);
        if (_saveResult)
        {
            _result = result;
            _resultVersion = data.Version;
        }
        return result;
    }

    /// <summary>Runs backward for the engine, with the checks anomaly mode and double backward need.</summary>
    internal Variable?[] RunBackward(Variable g)
    {
        CheckReleased();
        if (!SupportsDoubleBackward && GradMode.IsEnabled)
            throw new AutogradException($"{Name}: second-order gradients through this op are not supported (its backward is not recorded)");
        // ops inside a backward formula are checked as that formula's results, naming this function
        Variable?[] grads;
        t_inBackward++;
        try { grads = Backward(g); }
        finally { t_inBackward--; }
        if (grads.Length != _inputs.Length)
            throw new AutogradException($"{Name}: Backward returned {grads.Length} gradients for {_inputs.Length} inputs; return one per input (null where not needed)");
        if (GradMode.IsAnomalyDetectionEnabled)
            for (int i = 0; i < grads.Length; i++)
                if (grads[i] is { } gi && !gi.Data.AllFinite())
                    throw new AnomalyException($"{Name} backward produced NaN or infinity in the gradient of input {i} (inputs {DescribeInputs()}){At()}");
        return grads;
    }

    /// <summary>Drops what was saved for backward; a later backward through this node throws.</summary>
    internal void Release()
    {
        _released = true;
        _saved = null;
        _kept = null;
        _result = null;
    }

    internal bool IsReleased => _released;

    private string DescribeInputs() => string.Join(" x ", _inputs.Select(v => Errors.Shape(v.Data.Shape)));

    private string At() => CallSite is null ? "" : $", called at {CallSite}";

    /// <summary>The first stack frame outside the engine's own assemblies, as file:line.</summary>
    private static string? FindCallSite()
    {
        // DiagnosticMethodInfo rather than StackFrame.GetMethod: it works in trimmed and NativeAOT apps
        string? engine = typeof(Function).Assembly.GetName().Name, tensors = typeof(Tensor).Assembly.GetName().Name;
        foreach (var frame in new StackTrace(fNeedFileInfo: true).GetFrames())
        {
            var method = DiagnosticMethodInfo.Create(frame);
            if (method is null) continue;
            string assembly = new System.Reflection.AssemblyName(method.DeclaringAssemblyName).Name ?? "";
            if (assembly == engine || assembly == tensors) continue;
            return frame.GetFileName() is { } file ? $"{file}:{frame.GetFileLineNumber()}" : $"{method.DeclaringTypeName}.{method.Name}";
        }
        return null;
    }
}

/// <summary>A function of one tensor.</summary>
public abstract class UnaryFunction : Function
{
    /// <summary>y = f(x).</summary>
    protected abstract Tensor Forward(Tensor x);

    /// <inheritdoc/>
    protected sealed override Tensor Forward(Tensor[] inputs) =>
        inputs.Length == 1 ? Forward(inputs[0]) : throw new AutogradException($"{Name}: takes one input, not {inputs.Length}");
}

/// <summary>A function of two tensors.</summary>
public abstract class BinaryFunction : Function
{
    /// <summary>z = f(a, b).</summary>
    protected abstract Tensor Forward(Tensor a, Tensor b);

    /// <inheritdoc/>
    protected sealed override Tensor Forward(Tensor[] inputs) =>
        inputs.Length == 2 ? Forward(inputs[0], inputs[1]) : throw new AutogradException($"{Name}: takes two inputs, not {inputs.Length}");
}
