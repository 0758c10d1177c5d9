namespace Engine.Layers;

/// <summary>Ready-made models for 28×28 grey images and 10 classes (Fashion-MNIST), by name.</summary>
public static class Models
{
    /// <summary>The names <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp", "lenet", "resnet-small"];

    /// <summary>Builds a model by name; an unknown name is an error listing the known ones.</summary>
    public static Module Create(string name, int inChannels = 1, int classes = 10, Generator? generator = null) => name switch
    {
        "mlp" => Mlp(inChannels * 28 * 28, classes, generator),
        "lenet" => LeNet(inChannels, classes, generator),
        "resnet-small" => ResNetSmall(inChannels, classes, generator),
        _ => throw new EngineException($"unknown model '{name}'; known models: {string.Join(", ", Names)}"),
    };

    /// <summary>Flatten → 256 → ReLU → 128 → ReLU → classes.</summary>
    public static Sequential Mlp(int inputs = 784, int classes = 10, Generator? generator = null) => new(
        new Flatten(),
        new Linear(inputs, 256, generator: generator), new ReLU(),
        new Linear(256, 128, generator: generator), new ReLU(),
        new Linear(128, classes, generator: generator));

    /// <summary>
    /// LeNet-5 (LeCun et al. 1998) with ReLU and max pooling: 5×5 conv to 6 channels (padded to keep
    /// 28×28) → pool → 5×5 conv to 16 → pool → 120 → 84 → classes.
    /// </summary>
    public static Sequential LeNet(int inChannels = 1, int classes = 10, Generator? generator = null) => new(
        new Conv2d(inChannels, 6, 5, padding: 2, generator: generator), new ReLU(), new MaxPool2d(2),
        new Conv2d(6, 16, 5, generator: generator), new ReLU(), new MaxPool2d(2),
        new Flatten(),
        new Linear(16 * 5 * 5, 120, generator: generator), new ReLU(),
        new Linear(120, 84, generator: generator), new ReLU(),
        new Linear(84, classes, generator: generator));

    /// <summary>A small ResNet: a 3×3 stem to 16 channels, basic blocks of 16, 32 (stride 2) and 64 (stride 2) channels, global average pooling, a linear head.</summary>
    public static Sequential ResNetSmall(int inChannels = 1, int classes = 10, Generator? generator = null) => new(
        new Conv2d(inChannels, 16, 3, padding: 1, bias: false, generator: generator), new BatchNorm2d(16), new ReLU(),
        new BasicBlock(16, 16, generator: generator),
        new BasicBlock(16, 32, stride: 2, generator: generator),
        new BasicBlock(32, 64, stride: 2, generator: generator),
        new GlobalAvgPool2d(), new Flatten(),
        new Linear(64, classes, generator: generator));
}
