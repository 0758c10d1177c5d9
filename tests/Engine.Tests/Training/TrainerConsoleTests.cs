using Engine.Data;
using Engine.Layers;
using Engine.Optim;
using Engine.Training;

namespace Engine.Tests;

/// <summary>Trainer.Fit from code says how training goes, as Keras's fit does, and is quiet when asked.</summary>
[Collection(nameof(DocSnippetCollection))]   // alone: it swaps the console's writer
public sealed class TrainerConsoleTests
{
    private static string FitPrinting(bool verbose, IProgress<TrainingProgress>? progress = null)
    {
        using var data = new TensorDataset(Tensor.RandN([64, 1, 28, 28], 0, 1, DType.Float32, new Generator(1)), Tensor.RandInt(0, 10, [64], generator: new Generator(2)));
        var model = Models.Mlp(generator: new Generator(3));
        using var optimizer = new SGD(model.Parameters(), lr: 0.01);
        var output = new StringWriter();
        var before = Console.Out;
        Console.SetOut(output);
        try
        {
            Trainer.Fit(model, new CrossEntropyLoss(), optimizer, new DataLoader(data, 16), epochs: 2,
                validation: new DataLoader(data, 32), progress: progress, verbose: verbose);
        }
        finally
        {
            Console.SetOut(before);
        }
        return output.ToString();
    }

    [Fact]
    public void Fit_prints_a_line_per_epoch_by_default()
    {
        var lines = FitPrinting(verbose: true).TrimEnd().Split('\n').Select(l => l.TrimEnd()).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^epoch 1/2: train loss \d+\.\d{4} acc \d+\.\d{2} % \| val loss \d+\.\d{4} acc \d+\.\d{2} % \| \d+\.\d s, \d+/s$", lines[0]);
        Assert.StartsWith("epoch 2/2: ", lines[1]);
    }

    [Fact]
    public void Fit_is_quiet_with_verbose_false_or_when_progress_goes_elsewhere()
    {
        Assert.Equal("", FitPrinting(verbose: false));
        int reports = 0;
        Assert.Equal("", FitPrinting(verbose: true, new Progress<TrainingProgress>(_ => Interlocked.Increment(ref reports))));
    }
}
