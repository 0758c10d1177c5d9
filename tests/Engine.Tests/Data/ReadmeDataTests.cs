using Engine.Data;

namespace Engine.Tests;

/// <summary>The README's data example runs as written.</summary>
public sealed class ReadmeDataTests
{
    [Fact]
    public void The_readme_data_example_runs()
    {
        using var scope = Tensor.Scope();
        using var train = FashionMnist.LoadTrain();
        var (fit, validation) = Datasets.TrainValidationSplit(train, 0.1, seed: 1);
        var augment = new Compose(new RandomCrop(28, padding: 2, seed: 2), new RandomHorizontalFlip(seed: 3),
                                  new Normalize([0.2860], [0.3530]));
        var loader = new DataLoader(fit, batchSize: 128, shuffle: true, seed: 4, dropLast: true, transform: augment);
        int batches = 0;
        foreach (var batch in loader)
            using (batch)
            {
                Assert.Equal(new[] { 128, 1, 28, 28 }, batch.Inputs.Shape.ToArray());
                Assert.Equal(new[] { 128 }, batch.Labels.Shape.ToArray());
                batches++;
            }
        Assert.Equal((9000, 1000), (fit.Count, validation.Count));
        Assert.Equal(9000 / 128, batches);
    }
}
