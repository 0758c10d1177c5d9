using Engine.Data;
using Engine.Layers;
using Engine.Onnx;
using Engine.Training;

namespace Engine.Tests;

/// <summary>The README's fine-tuning recipe in C#: it compiles and runs here, and the README shows exactly these lines.</summary>
[Collection(nameof(MemoryCollection))]
public sealed class ReadmeFinetuneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-readme-finetune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_readme_fine_tuning_recipe_runs()
    {
        string photos = Path.Combine(_dir, "photos");
        var names = TestImages.FashionFolder(photos, classes: 2, perClass: 10);
        string image = Directory.GetFiles(Path.Combine(photos, names[0]))[0];
        using var scope = Tensor.Scope();
        // README begin
        var prep = PretrainedModels.ResNet18Preprocessing(size: 64);             // BGR on 0-255 minus the ImageNet means
        using var data = ImageFolder.Load(photos, new ImageFolderOptions { Seed = 1 }, prep.LoadOptions());
        var backbone = OnnxModel.LoadBackbone(PretrainedModels.ResNet18Path);     // cut before its classifier, if it has one
        var net = FineTuning.Classifier(backbone, [3, 64, 64], data.Classes.Count);
        var train = new DataLoader(data.Train, 32, shuffle: true, seed: 1, transform: prep.Training(seed: 1));
        var val = new DataLoader(data.Validation, 64, transform: prep.Evaluation());
        var result = FineTuning.Fit(net, new CrossEntropyLoss(), train, val, new FineTuneOptions { HeadEpochs = 2, TuneEpochs = 3 });
        var test = Trainer.Evaluate(net, new CrossEntropyLoss(), new DataLoader(data.Test, 64, transform: prep.Evaluation()));
        Console.WriteLine($"test accuracy {test.Accuracy:P1} on {test.Samples} images");
        OnnxExport.Save(net, [3, 64, 64], photos + ".onnx");                        // for ONNX Runtime, or OnnxModel.Load
        var probabilities = Trainer.PredictProbabilities(net, prep.Load(image));  // [1, classes], softmax
        // README end
        Assert.Equal(5, result.History.Epochs.Count);
        Assert.Equal(2, result.HeadEpochs);
        Assert.Equal(4, test.Samples);
        Assert.True(File.Exists(photos + ".onnx"));
        Assert.Equal(new[] { 1, 2 }, probabilities.Shape.ToArray());
        Assert.Equal(1.0, probabilities.Sum().Item<double>(), 5);
    }

    [Fact]
    public void The_readme_shows_the_recipe_as_tested()
    {
        string root = FashionMnistPaths.RepositoryRoot();
        var source = File.ReadAllLines(Path.Combine(root, "tests", "Engine.Tests", "Training", "ReadmeFinetuneTests.cs"));
        int begin = Array.FindIndex(source, l => l.Trim() == "// README begin"), end = Array.FindIndex(source, l => l.Trim() == "// README end");
        var recipe = source[(begin + 1)..end].Select(l => l.Trim()).ToList();
        var readme = File.ReadAllLines(Path.Combine(root, "README.md")).Select(l => l.Trim()).ToList();
        int at = readme.IndexOf(recipe[0]);
        Assert.True(at >= 0, "the README does not show the recipe's first line: " + recipe[0]);
        Assert.Equal(recipe, readme.Skip(at).Take(recipe.Count));
    }
}
