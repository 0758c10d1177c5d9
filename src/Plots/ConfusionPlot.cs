using Engine.Training;
using ScottPlot;

namespace Engine.Plots;

/// <summary>A confusion matrix as a PNG: one cell per (true, predicted) pair, its count written in it and shaded by the true class's share.</summary>
public static class ConfusionPlot
{
    /// <summary>
    /// Writes <paramref name="confusion"/> (counts[true, predicted]) with the class names on both axes:
    /// true classes down the left, predicted classes along the bottom; a cell's shade is its count over
    /// its row's total, so the diagonal is each class's accuracy.
    /// </summary>
    public static void Save(long[,] confusion, IReadOnlyList<string> classes, string path, string title = "Confusion matrix")
    {
        int n = confusion.GetLength(0);
        if (n != confusion.GetLength(1) || n != classes.Count)
            throw new EngineException($"ConfusionPlot: a {confusion.GetLength(0)}x{confusion.GetLength(1)} matrix for {classes.Count} class names");
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Blues();
        for (int i = 0; i < n; i++)
        {
            long row = 0;
            for (int j = 0; j < n; j++) row += confusion[i, j];
            for (int j = 0; j < n; j++)
            {
                double share = row == 0 ? 0 : (double)confusion[i, j] / row;
                var cell = plot.Add.Rectangle(j - 0.5, j + 0.5, -i - 0.5, -i + 0.5);
                cell.FillColor = colormap.GetColor(0.95 - 0.9 * share);
                cell.LineColor = Colors.White;
                var text = plot.Add.Text(confusion[i, j].ToString(System.Globalization.CultureInfo.InvariantCulture), j, -i);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = n > 12 ? 9 : 13;
                text.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
            }
        }
        double[] positions = [.. Enumerable.Range(0, n).Select(i => (double)i)];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, [.. classes]);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. positions.Select(p => -p)], [.. classes]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = n > 4 ? 45 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = n > 4 ? Alignment.MiddleLeft : Alignment.UpperCenter;
        int longest = classes.Max(c => c.Length);
        plot.Axes.Bottom.MinimumSize = n > 4 ? 30 + 6 * longest : 40;
        plot.Axes.SetLimits(-0.5, n - 0.5, -n + 0.5, 0.5);
        plot.Title(title);
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Grid.IsVisible = false;
        int side = Math.Clamp(Math.Max(160 + 48 * n + 8 * longest, 120 + 10 * title.Length), 420, 1600);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, side, side);
    }
}
