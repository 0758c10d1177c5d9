using Engine.Data;
using Engine.Layers;
using Engine.Optim;
using Engine.Training;

namespace Engine.Tests;

/// <summary>The README's layers-and-training example runs as written (on a slice of the subset, one epoch, to stay quick).</summary>
public sealed class ReadmeTrainingTests
{
    [Fact]
    public void The_readme_training_example_runs_and_learns()
    {
        string dir = Directory.CreateTempSubdirectory("engine-readme-").FullName;
        try
        {
            using var scope = Tensor.Scope();
            using var data = FashionMnist.LoadTrain();
            var slice = new Subset(data, Enumerable.Range(0, 2000).ToArray());
            var (fit, val) = Datasets.TrainValidationSplit(slice, 0.1, seed: 1);
            var model = Models.LeNet(generator: new Generator(42));
            string summary = model.Summary(1, 1, 28, 28);
            Assert.Contains("61,706", summary);
            using var optimizer = new Adam(model.Parameters(trainableOnly: true), lr: 3e-3);
            var train = new DataLoader(fit, batchSize: 32, shuffle: true, seed: 1, transform: new Normalize([0.286], [0.353]));
            var valLoader = new DataLoader(val, batchSize: 256, transform: new Normalize([0.286], [0.353]));
            var history = Trainer.Fit(model, new CrossEntropyLoss(labelSmoothing: 0.05), optimizer, train, epochs: 1,
                validation: valLoader, callbacks: [new EarlyStopping(patience: 2), new CsvLog(Path.Combine(dir, "metrics.csv")),
                                                   new TensorBoardLog(Path.Combine(dir, "tb"))]);
            string path = Path.Combine(dir, "model.safetensors");
            Checkpoint.Save(path, model, optimizer);

            var epoch = Assert.Single(history.Epochs);
            Assert.True(epoch.ValAccuracy > 0.5, $"validation accuracy {epoch.ValAccuracy} after one epoch on 1,800 images");
            var reloaded = Models.LeNet(generator: new Generator(7));
            Checkpoint.Load(path, reloaded);
            foreach (var ((name, a), (_, b)) in model.NamedParameters().Zip(reloaded.NamedParameters()))
                Assert.True(a.Data.ToArray<float>().SequenceEqual(b.Data.ToArray<float>()), name);
            Assert.True(File.Exists(Path.Combine(dir, "metrics.csv")));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "tb")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
