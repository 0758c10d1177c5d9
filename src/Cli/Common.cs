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

    /// <summary>A fresh model by name; the fine-tuned ResNet18 gets a head of <paramref name="classes"/> outputs.</summary>
    public static Module CreateModel(string name, Generator? generator = null, int classes = 10)
    {
        if (name == FinetuneCommand.ModelName) return FinetuneCommand.CreateNet(null, generator ?? new Generator(0), classes).Net;
        if (!Models.Names.Contains(name)) throw new CliException($"unknown model '{name}'; known models: {string.Join(", ", Models.Names)}");
        return Models.Create(name, generator: generator);
    }

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

    /// <summary>
    /// What a model's inputs go through: the 28×28 grey images resized to the config's input size and
    /// replicated to 3 channels where the model wants them (the fine-tuned ResNet18), then normalized.
    /// </summary>
    public static ITransform Normalization(RunConfig c)
    {
        var normalize = new Normalize(c.NormalizeMean, c.NormalizeStd);
        if (c.InputShape is [1, 28, 28]) return normalize;
        var steps = new List<ITransform> { new Resize(c.InputShape[1], c.InputShape[2]) };
        if (c.InputShape[0] == 3) steps.Add(new GreyToRgb());
        steps.Add(normalize);
        return new Compose([.. steps]);
    }

    public static string Json(object o) => JsonSerializer.Serialize(o, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
}
