namespace Engine.Tests;

/// <summary>The embedded subset, read once for all the tests that need it.</summary>
public sealed class SubsetFixture : IDisposable
{
    public SubsetFixture()
    {
        Directory = FashionMnistPaths.Subset();
        Train = Engine.Data.FashionMnist.LoadTrain();
        Test = Engine.Data.FashionMnist.LoadTest();
    }

    public string Directory { get; }

    public Engine.Data.TensorDataset Train { get; }

    public Engine.Data.TensorDataset Test { get; }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
