using Engine.Training;
using ScottPlot;

namespace Engine.Plots;

/// <summary>Loss and accuracy curves of one or more training runs as a PNG (ScottPlot).</summary>
public static class CurvePlot
{
    private static readonly Color[] s_colours = [Colors.C0, Colors.C1, Colors.C2, Colors.C3];

    /// <summary>One run's curves (see <see cref="Save(IReadOnlyList{ValueTuple{string, TrainingHistory}}, string, int?, int, int)"/>).</summary>
    public static void Save(TrainingHistory history, string path, int width = 1100, int height = 460) =>
        Save([("", history)], path, null, width, height);

    /// <summary>
    /// Two panels side by side, loss on the left and accuracy on the right, against the epoch (integer
    /// ticks): each run in its own colour, training solid and validation dashed, the legend to the
    /// panels' right. With <paramref name="phaseBoundary"/> (the last epoch of a fine-tuning run's first
    /// phase) a dotted line between that epoch and the next marks where the backbone was unfrozen.
    /// </summary>
    public static void Save(IReadOnlyList<(string Label, TrainingHistory History)> runs, string path, int? phaseBoundary = null, int width = 1100, int height = 460)
    {
        var loss = new Plot();
        var multiplot = new Multiplot(loss) { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        var accuracy = multiplot.AddPlot();
        int epochs = runs.Select(r => r.History.Epochs.Count).DefaultIfEmpty(0).Max();
        for (int r = 0; r < runs.Count; r++)
        {
            var (label, history) = runs[r];
            string Name(string what) => label.Length > 0 ? $"{label}: {what}" : what;
            var x = history.Epochs.Select(e => (double)e.Epoch).ToArray();
            var colour = s_colours[r % s_colours.Length];
            Line(loss, x, [.. history.Epochs.Select(e => e.TrainLoss)], Name("training"), colour, dashed: false);
            Line(accuracy, x, [.. history.Epochs.Select(e => e.TrainAccuracy * 100)], Name("training"), colour, dashed: false);
            if (history.Epochs.Any(e => e.ValLoss.HasValue))
            {
                Line(loss, x, [.. history.Epochs.Select(e => e.ValLoss ?? double.NaN)], Name("validation"), colour, dashed: true);
                Line(accuracy, x, [.. history.Epochs.Select(e => (e.ValAccuracy ?? double.NaN) * 100)], Name("validation"), colour, dashed: true);
            }
        }
        foreach (var (plot, title, unit) in new[] { (loss, "Loss", "loss (cross-entropy)"), (accuracy, "Accuracy", "accuracy (%)") })
        {
            plot.Title(title);
            plot.XLabel("epoch");
            plot.YLabel(unit);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Axes.AutoScale();
            plot.Axes.SetLimitsX(0.5, Math.Max(epochs, 1) + 0.5);
            if (phaseBoundary is { } b && b > 0 && b < epochs)
            {
                var line = plot.Add.VerticalLine(b + 0.5, 1.5f, Colors.Gray, LinePattern.Dotted);
                line.LegendText = "backbone unfrozen (phase 2)";
            }
        }
        // one legend, beside the panels, never over a curve
        accuracy.ShowLegend(Edge.Right);
        loss.HideLegend();
        // accuracy from a round ten below the lowest point to 100
        double lowest = runs.SelectMany(r => r.History.Epochs).SelectMany(e => new[] { e.TrainAccuracy, e.ValAccuracy ?? 1 }).DefaultIfEmpty(0).Min();
        accuracy.Axes.SetLimitsY(Math.Max(0, Math.Floor(lowest * 10 - 0.5) * 10), 100.5);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        multiplot.SavePng(path, width, height);
    }

    private static void Line(Plot plot, double[] x, double[] y, string label, Color colour, bool dashed)
    {
        var s = plot.Add.Scatter(x, y, colour);
        s.LegendText = label;
        s.LineWidth = 2;
        s.MarkerSize = 6;
        if (dashed) s.LinePattern = LinePattern.Dashed;
    }
}
