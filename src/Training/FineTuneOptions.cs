namespace Engine.Training;

/// <summary>The schedule of <see cref="FineTuning.Fit"/>.</summary>
public sealed record FineTuneOptions
{
    /// <summary>
    /// Train data-parallel over these processes (<see cref="Engine.Distributed.ProcessGroup.World"/> under mpirun):
    /// each phase wraps the classifier in a <see cref="Engine.Distributed.DistributedDataParallel"/> over the
    /// parameters it trains; the loaders must be sharded (<see cref="Engine.Data.DataLoader.Shard"/>). Null: one process.
    /// </summary>
    public Engine.Distributed.ProcessGroup? Group { get; init; }

    /// <summary>A line per epoch on the console when no progress receiver is given (default true; see <see cref="Trainer.Fit"/>).</summary>
    public bool Verbose { get; init; } = true;

    /// <summary>Phase 1: epochs of the new head alone, on the frozen backbone (default 2).</summary>
    public int HeadEpochs { get; init; } = 2;

    /// <summary>Phase 2: epochs with the backbone's last stages unfrozen too (default 3; 0 skips the phase).</summary>
    public int TuneEpochs { get; init; } = 3;

    /// <summary>Adam's learning rate for the head, in both phases (default 1e-3).</summary>
    public double HeadLearningRate { get; init; } = 1e-3;

    /// <summary>Adam's learning rate for the unfrozen backbone stages (default a tenth of the head's).</summary>
    public double? BodyLearningRate { get; init; }

    /// <summary>How many of the backbone's last stages phase 2 unfreezes (default 1; null: all of them).</summary>
    public int? UnfreezeStages { get; init; } = 1;

    /// <summary>
    /// Let the backbone's batch norms use and update batch statistics in phase 2 (PyTorch's
    /// <c>model.train()</c>). Off by default: they keep their pretrained running statistics while
    /// the weights train, which on a small photo folder gave 84.7 % against 79.0 % (see the README).
    /// </summary>
    public bool UpdateBatchNormStatistics { get; init; }
}
