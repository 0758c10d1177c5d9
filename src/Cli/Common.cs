using System.Text.Json;
using Engine.Data;
using Engine.Layers;
using Engine.Optim;

namespace Engine.Cli;

/// <summary>Pieces the train, eval and predict commands share.</summary>
internal static class Common
{
    public static readonly string[] Optimizers = ["sgd", "adam", "adamw", "adagrad", "rmsprop"];

    public static double DefaultLearningRate(string optimizer) => optimizer switch
    {
        "sgd" => 0.05,
        "adagrad" => 0.01,
        "adam" or "adamw" => 3e-3,
        _ => 1e-3,
    };

    public static Optimizer CreateOptimizer(string name, IEnumerable<Parameter> parameters, double lr)
    {
        var groups = new[] { new ParamGroup(parameters) };
        return name switch
        {
            "sgd" => new SGD(groups, lr, momentum: 0.9),
            "adam" => new Adam(groups, lr),
            "adamw" => new AdamW(groups, lr),
            "adagrad" => new Adagrad(groups, lr),
            "rmsprop" => new RMSprop(groups, lr),
            _ => throw new CliException($"unknown optimizer '{name}'; known: {string.Join(", ", Optimizers)}"),
        };
    }

    /// <summary>A fresh model of <c>engine train</c> by name.</summary>
    public static Module CreateModel(string name, Generator? generator = null)
    {
        if (!Models.Names.Contains(name)) throw new CliException($"unknown model '{name}'; known models: {string.Join(", ", Models.Names)}");
        return Models.Create(name, generator: generator);
    }

    /// <summary>
    /// The model a run folder's config.json (at <paramref name="source"/>) describes, weights not loaded: one of
    /// train's, or a fine-tuned backbone with its head.
    /// </summary>
    public static Module CreateModel(RunConfig config, string source) =>
        config.Model is FinetuneCommand.ModelName or FinetuneCommand.LegacyModelName
            ? FinetuneCommand.CreateModel(config)
            : Models.Names.Contains(config.Model) && config.Classes.Length == 10 && config.InputShape is [1, 28, 28]
                ? Models.Create(config.Model)
                : throw new CliException($"{source}: model '{config.Model}' with {config.Classes.Length} classes and input {Errors.Shape(config.InputShape)} is not one this version builds " +
                                         $"(train's {string.Join(", ", Models.Names)} for 10 classes of 1x28x28, or {FinetuneCommand.ModelName})");

    /// <summary>Class names for a line of text: all of them, or the first few and a count.</summary>
    public static string ClassList(IReadOnlyList<string> classes) =>
        classes.Count <= 8 ? string.Join(", ", classes) : string.Join(", ", classes.Take(6)) + $", … and {classes.Count - 6} more";

    /// <summary>An epoch's numbers on one line.</summary>
    public static string EpochLine(Engine.Training.EpochMetrics m) => m.Describe();

    /// <summary>
    /// Loads a checkpoint (model.safetensors) into <paramref name="model"/>, first checking that its
    /// classifier (the model's last matrix parameter) has as many classes as the model's: a checkpoint
    /// trained for other classes is one message naming both counts, and the model is left unchanged.
    /// </summary>
    public static void LoadCheckpoint(Module model, string weights, string what)
    {
        if (!File.Exists(weights)) throw new CliException($"{weights}: no such checkpoint");
        try
        {
            var (name, head) = model.NamedParameters().Last(p => p.Value.Rank == 2);
            if (SafeTensors.ReadShapes(weights).TryGetValue(name, out var saved) && saved.Length == 2 && saved[1] == head.Shape[1] && saved[0] != head.Shape[0])
                throw new CliException($"{weights}: the checkpoint's head ({name}, {Errors.Shape(saved)}) has {saved[0]} classes but {what} has {head.Shape[0]}; " +
                                       "use a checkpoint trained for the same classes");
            model.Load(weights);
        }
        catch (EngineException e) { throw new CliException($"{weights}: {e.Message}"); }
    }

    /// <summary>The device named by <c>--device</c>: cpu, cuda[:N], opencl[:N], ilgpu-cpu, or auto (<see cref="Device.Default"/>).</summary>
    public static Device ParseDevice(string device)
    {
        try
        {
            return device.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? Device.Default : Device.Parse(device).CheckAvailable();
        }
        catch (DeviceException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>
    /// Runs a training command on this process of a job. Without a launcher, or on rank 0, <paramref name="run"/>
    /// gets null (print and write as asked); the other ranks get a run folder of their own, removed at the end, to
    /// train into quietly. <paramref name="batchSize"/> is the whole job's batch: it must divide among the processes.
    /// </summary>
    public static int OnEveryRank(Engine.Distributed.ProcessGroup? group, int batchSize, Func<string?, int> run)
    {
        int ranks = group?.Size ?? 1;
        if (batchSize % ranks != 0)
            throw new CliException($"--batch-size {batchSize} is the batch of the whole job: it must divide among its {ranks} processes");
        if (group is null || group.Rank == 0) return run(null);
        string scratch = Directory.CreateTempSubdirectory($"engine-rank{group.Rank}-").FullName;
        try
        {
            return run(Path.Combine(scratch, "run"));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Train and test sets from a folder of IDX files, or the embedded subset.</summary>
    public static (TensorDataset Train, TensorDataset Test) LoadData(string? dir)
    {
        if (dir is not null && !Directory.Exists(dir))
            throw new CliException($"{dir}: no such data folder (it should hold the four Fashion-MNIST IDX files; the full set is in {FashionMnist.DebianDirectory} after 'apt-get install dataset-fashion-mnist')");
        try
        {
            return (FashionMnist.LoadTrain(dir), FashionMnist.LoadTest(dir));
        }
        catch (EngineException e)
        {
            throw new CliException(e.Message);
        }
    }

    public static string Json(object o) => JsonSerializer.Serialize(o, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
}
