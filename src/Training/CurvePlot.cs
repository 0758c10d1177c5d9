namespace Engine.Training;

/// <summary>Loss and accuracy curves of a training run as a PNG (ScottPlot).</summary>
public static class CurvePlot
{
    /// <summary>Writes two panels side by side: train/validation loss and train/validation accuracy per epoch.</summary>
    public static void Save(TrainingHistory history, string path, int width = 1000, int height = 400)
    {
        var epochs = history.Epochs.Select(e => (double)e.Epoch).ToArray();
        var multi = new ScottPlot.Multiplot();
        multi.AddPlots(2);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var loss = multi.GetPlot(0);
        var acc = multi.GetPlot(1);
        Add(loss, epochs, history.Epochs.Select(e => e.TrainLoss).ToArray(), "train");
        Add(acc, epochs, history.Epochs.Select(e => e.TrainAccuracy).ToArray(), "train");
        if (history.Epochs.Any(e => e.ValLoss.HasValue))
        {
            Add(loss, epochs, history.Epochs.Select(e => e.ValLoss ?? double.NaN).ToArray(), "validation");
            Add(acc, epochs, history.Epochs.Select(e => e.ValAccuracy ?? double.NaN).ToArray(), "validation");
        }
        loss.Title("Loss");
        loss.XLabel("epoch");
        acc.Title("Accuracy");
        acc.XLabel("epoch");
        loss.ShowLegend();
        acc.ShowLegend();
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        multi.SavePng(path, width, height);
    }

    private static void Add(ScottPlot.Plot plot, double[] x, double[] y, string label)
    {
        var s = plot.Add.Scatter(x, y);
        s.LegendText = label;
    }
}
