using Engine.Data;
using Engine.Layers;
using Engine.Optim;

namespace Engine.Training;

/// <summary>Where <see cref="FineTuning.Fit"/> is: the phase (1: head, 2: unfrozen stages) and the step within it.</summary>
public sealed record FineTuneProgress(int Phase, TrainingProgress Training);

/// <summary>What <see cref="FineTuning.Fit"/> did.</summary>
/// <param name="History">Both phases' epochs, numbered on across them.</param>
/// <param name="HeadEpochs">The epochs of phase 1 (the phase boundary in <see cref="History"/>).</param>
/// <param name="UnfrozenParameters">Backbone parameter elements trained in phase 2.</param>
public sealed record FineTuneResult(TrainingHistory History, int HeadEpochs, long UnfrozenParameters);

/// <summary>
/// The fine-tuning recipe of the seed, Keras and fastai: a pretrained backbone with a new head,
/// trained in two phases. Phase 1 trains the head on the frozen backbone (its batch norms on their
/// running statistics); phase 2 also trains the backbone's last stages at a lower learning rate.
/// </summary>
/// <example>
/// <code>
/// var backbone = OnnxModel.LoadBackbone(PretrainedModels.ResNet18Path);       // cut before its classifier
/// var net = FineTuning.Classifier(backbone, [3, 64, 64], classes: 5);         // + Flatten + Linear(512, 5)
/// var result = FineTuning.Fit(net, new CrossEntropyLoss(), trainLoader, valLoader, new FineTuneOptions());
/// </code>
/// </example>
public static class FineTuning
{
    /// <summary>
    /// The backbone followed by a new head for <paramref name="classes"/> classes:
    /// <c>Sequential(backbone, Sequential([GlobalAvgPool2d], Flatten, [Dropout], Linear(features, classes)))</c>.
    /// The feature width comes from running the backbone once on zeros of <paramref name="inputShape"/>
    /// (without the batch); a feature map larger than 1×1 gets a global average pool first.
    /// </summary>
    public static Sequential Classifier(Module backbone, int[] inputShape, int classes, double dropout = 0, Generator? generator = null)
    {
        if (classes < 2) throw new EngineException($"FineTuning.Classifier: classes {classes}: a classifier needs at least 2");
        if (!(dropout >= 0 && dropout < 1)) throw new EngineException($"FineTuning.Classifier: dropout {dropout}: must lie in [0, 1)");
        int[] shape;
        bool wasTraining = backbone.IsTraining;
        try
        {
            using var scope = Tensor.Scope();
            using var noGrad = GradMode.NoGrad();
            backbone.Eval();
            var dtype = backbone.Parameters().FirstOrDefault()?.Data.DType ?? DType.Float32;
            shape = [.. backbone.Call(new Variable(Tensor.Zeros([1, .. inputShape], dtype, backbone.Device))).Shape];
        }
        catch (EngineException e)
        {
            throw new EngineException($"FineTuning.Classifier: the backbone cannot take an input {Errors.Shape([1, .. inputShape])}: {e.Message}");
        }
        finally
        {
            backbone.Train(wasTraining);
        }
        var layers = new List<Module>();
        if (shape.Length == 4 && shape[2] * shape[3] > 1) layers.Add(new GlobalAvgPool2d());
        int features = shape.Length == 4 ? shape[1] : shape.Skip(1).Aggregate(1, (a, d) => a * d);
        if (shape.Length < 2 || features < 1)
            throw new EngineException($"FineTuning.Classifier: the backbone's output {Errors.Shape(shape)} holds no features per image");
        layers.Add(new Flatten());
        if (dropout > 0) layers.Add(new Dropout(dropout, generator));
        layers.Add(new Linear(features, classes, generator: generator));
        var head = new Sequential([.. layers]);
        head.To(backbone.Device);
        return new Sequential(backbone, head);
    }

    /// <summary>The backbone's stages, first to last: those of an <see cref="IStaged"/> backbone, else one stage of all its parameters.</summary>
    public static IReadOnlyList<IReadOnlyList<Parameter>> Stages(Module backbone) =>
        backbone is IStaged staged ? staged.Stages() : [[.. backbone.Parameters()]];

    /// <summary>
    /// Runs the two phases on <paramref name="classifier"/> (<c>Sequential(backbone, head)</c>, as
    /// <see cref="Classifier"/> makes) with Adam, and returns both phases' history. Callbacks see one
    /// run: epochs and steps count on from phase 1 into phase 2.
    /// </summary>
    public static FineTuneResult Fit(Sequential classifier, Loss loss, DataLoader train, DataLoader? validation, FineTuneOptions options,
        IReadOnlyList<ICallback>? callbacks = null, IProgress<FineTuneProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (classifier.Layers.Count != 2)
            throw new EngineException($"FineTuning.Fit: the classifier has {classifier.Layers.Count} layers; it must be Sequential(backbone, head), as FineTuning.Classifier makes");
        if (options.HeadEpochs < 1 || options.TuneEpochs < 0)
            throw new EngineException($"FineTuning.Fit: {options.HeadEpochs} head epochs and {options.TuneEpochs} tuning epochs: need at least 1 and 0");
        if (options.UnfreezeStages is < 1) throw new EngineException($"FineTuning.Fit: unfreeze {options.UnfreezeStages} stages: at least 1 (null for all)");
        var (backbone, head) = (classifier[0], classifier[1]);
        IProgress<TrainingProgress>? Phase(int phase) => progress is null ? null : new Relay(p => progress.Report(new FineTuneProgress(phase, p)));

        backbone.Freeze();
        head.Unfreeze();
        TrainingHistory history;
        using (var ddp = Parallel(classifier, options))
        using (var optimizer = new Adam(head.Parameters(), options.HeadLearningRate))
            history = Trainer.Fit(classifier, loss, optimizer, train, options.HeadEpochs, validation, callbacks, Phase(1), cancellation,
                verbose: options.Verbose, distributed: ddp);
        int headEpochs = history.Epochs.Count;
        if (options.TuneEpochs == 0 || history.StoppedBecause is not null) return new FineTuneResult(history, headEpochs, 0);

        var stages = Stages(backbone);
        var body = stages.Skip(Math.Max(0, stages.Count - (options.UnfreezeStages ?? stages.Count))).SelectMany(s => s).ToList();
        if (options.UpdateBatchNormStatistics)
        {
            // batch norms everywhere in training mode, as PyTorch's model.train(); only the chosen stages' weights train
            backbone.Unfreeze();
            var trained = body.ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var p in backbone.Parameters()) if (!trained.Contains(p)) p.SetRequiresGrad(false);
        }
        else
            foreach (var p in body) p.SetRequiresGrad(true);
        double bodyRate = options.BodyLearningRate ?? options.HeadLearningRate / 10;
        using (var ddp = Parallel(classifier, options))
        using (var optimizer = new Adam([new ParamGroup(head.Parameters()), new ParamGroup(body, learningRate: bodyRate)], options.HeadLearningRate))
            Trainer.Fit(classifier, loss, optimizer, train, options.TuneEpochs, validation, callbacks, Phase(2), cancellation, history, options.Verbose, ddp);
        return new FineTuneResult(history, headEpochs, body.Sum(p => p.Numel));
    }

    /// <summary>A data-parallel wrapper over the parameters this phase trains, when the options name a group of several processes.</summary>
    private static Engine.Distributed.DistributedDataParallel? Parallel(Sequential classifier, FineTuneOptions options) =>
        options.Group is { Size: > 1 } group ? new Engine.Distributed.DistributedDataParallel(classifier, group) : null;

    /// <summary>Reports synchronously on the training thread.</summary>
    private sealed class Relay(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
