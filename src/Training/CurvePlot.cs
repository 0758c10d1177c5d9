namespace Engine.Training;

/// <summary>Loss and accuracy curves of a training run as a PNG (ScottPlot).</summary>
public static class CurvePlot
{
    /// <summary>
    /// Writes one chart per epoch axis: training and validation loss on the left axis, training and
    /// validation accuracy on the right axis.
    /// </summary>
    public static void Save(TrainingHistory history, string path, int width = 900, int height = 450)
    {
        var epochs = history.Epochs.Select(e => (double)e.Epoch).ToArray();
        var plot = new ScottPlot.Plot();
        Add(plot, epochs, history.Epochs.Select(e => e.TrainLoss).ToArray(), "train loss", right: false);
        Add(plot, epochs, history.Epochs.Select(e => e.TrainAccuracy).ToArray(), "train accuracy", right: true);
        if (history.Epochs.Any(e => e.ValLoss.HasValue))
        {
            Add(plot, epochs, history.Epochs.Select(e => e.ValLoss ?? double.NaN).ToArray(), "validation loss", right: false);
            Add(plot, epochs, history.Epochs.Select(e => e.ValAccuracy ?? double.NaN).ToArray(), "validation accuracy", right: true);
        }
        plot.Title("Training curves");
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "loss";
        plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend();
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, width, height);
    }

    private static void Add(ScottPlot.Plot plot, double[] x, double[] y, string label, bool right)
    {
        var s = plot.Add.Scatter(x, y);
        s.LegendText = label;
        if (right) s.Axes.YAxis = plot.Axes.Right;
    }
}
