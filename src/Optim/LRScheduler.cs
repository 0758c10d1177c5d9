namespace Engine.Optim;

/// <summary>
/// Sets the learning rates of an optimizer's groups as a function of the epoch (or step) count, like
/// PyTorch's <c>torch.optim.lr_scheduler.LRScheduler</c>: each group's rate is
/// <see cref="LearningRateAt"/>(its base rate, <see cref="LastEpoch"/>). The base rates are the groups'
/// rates when the scheduler is created; creating it sets the rates for epoch 0, and each
/// <see cref="Step"/> (after <see cref="Optimizer.Step"/>, once per epoch or per batch) advances one.
/// </summary>
public abstract class LRScheduler
{
    private readonly double[] _baseLrs;
    private double[] _lastLr = [];

    /// <summary>Takes the groups' current learning rates as base rates. A subclass calls <see cref="Start"/> at the end of its constructor.</summary>
    protected LRScheduler(Optimizer optimizer) : this(optimizer, null) { }

    /// <summary>
    /// Takes <paramref name="baseLrs"/> (one per group) as base rates, or the groups' current rates when
    /// null. A subclass calls <see cref="Start"/> at the end of its constructor.
    /// </summary>
    protected LRScheduler(Optimizer optimizer, IReadOnlyList<double>? baseLrs)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        _baseLrs = [.. baseLrs ?? optimizer.ParamGroups.Select(g => g.LearningRate).ToArray()];
        if (_baseLrs.Length != optimizer.ParamGroups.Count)
            throw new EngineException($"{GetType().Name}: {_baseLrs.Length} base learning rates for {optimizer.ParamGroups.Count} parameter group(s)");
    }

    /// <summary>The optimizer whose learning rates this scheduler sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The base learning rate of each group (its rate when the scheduler was created).</summary>
    public IReadOnlyList<double> BaseLrs => _baseLrs;

    /// <summary>The number of <see cref="Step"/> calls so far (the epoch whose rates are set).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate of a group whose base rate is <paramref name="baseLr"/>, at epoch <paramref name="epoch"/> ≥ 0.</summary>
    public abstract double LearningRateAt(double baseLr, int epoch);

    /// <summary>Advances one epoch and sets every group's learning rate.</summary>
    public void Step()
    {
        LastEpoch++;
        Apply();
    }

    /// <summary>The learning rates this scheduler set last, one per group (PyTorch's <c>get_last_lr()</c>).</summary>
    public IReadOnlyList<double> GetLastLr() => _lastLr;

    /// <summary>Sets the rates for epoch 0; called once by each subclass's constructor, after its own fields are set.</summary>
    protected void Start()
    {
        LastEpoch = 0;
        Apply();
    }

    private void Apply()
    {
        var groups = Optimizer.ParamGroups;
        if (groups.Count != _baseLrs.Length)
            throw new EngineException($"{GetType().Name}.Step: the scheduler was created for {_baseLrs.Length} parameter group(s) but the optimizer has {groups.Count}; create the scheduler after adding groups");
        var lrs = new double[groups.Count];
        for (int g = 0; g < lrs.Length; g++)
        {
            lrs[g] = LearningRateAt(_baseLrs[g], LastEpoch);
            groups[g].LearningRate = lrs[g];
        }
        _lastLr = lrs;
    }
}
