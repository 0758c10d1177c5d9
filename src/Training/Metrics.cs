namespace Engine.Training;

/// <summary>Classification metrics over logits [N, C] and labels [N].</summary>
public static class Metrics
{
    /// <summary>How many rows have their label among the <paramref name="k"/> largest logits.</summary>
    public static long CorrectTopK(Tensor logits, Tensor labels, int k = 1)
    {
        if (logits.Rank != 2 || labels.Rank != 1 || logits.Size(0) != labels.Size(0))
            throw Errors.ShapeError("Metrics", logits.Shape, labels.Shape, "logits must be [N, C] and labels [N]");
        if (k == 1)
        {
            using var pred = logits.ArgMax(1);
            using var y = labels.To(DType.Int64);
            using var hit = pred.Eq(y);
            using var n = hit.Sum();
            return n.Item<long>();
        }
        var l = logits.To(DType.Float64).ToArray<double>();
        var y2 = labels.To(DType.Int64).ToArray<long>();
        int c = logits.Size(1);
        long correct = 0;
        for (int i = 0; i < y2.Length; i++)
        {
            double target = l[i * c + y2[i]];
            int above = 0;
            for (int j = 0; j < c; j++) if (l[i * c + j] > target) above++;
            if (above < k) correct++;
        }
        return correct;
    }

    /// <summary>The fraction of rows whose largest logit is the label.</summary>
    public static double Accuracy(Tensor logits, Tensor labels) => labels.Size(0) == 0 ? 0 : (double)CorrectTopK(logits, labels) / labels.Size(0);

    /// <summary>Adds predictions to a confusion matrix: counts[label, predicted].</summary>
    public static void AddToConfusion(long[,] counts, Tensor logits, Tensor labels)
    {
        using var pred = logits.ArgMax(1);
        var p = pred.ToArray<long>();
        using var y = labels.To(DType.Int64);
        var t = y.ToArray<long>();
        for (int i = 0; i < p.Length; i++) counts[t[i], p[i]]++;
    }

    /// <summary>Per-class accuracy (recall) from a confusion matrix; NaN for classes with no samples.</summary>
    public static double[] PerClassAccuracy(long[,] confusion)
    {
        int c = confusion.GetLength(0);
        var acc = new double[c];
        for (int i = 0; i < c; i++)
        {
            long row = 0;
            for (int j = 0; j < c; j++) row += confusion[i, j];
            acc[i] = row == 0 ? double.NaN : (double)confusion[i, i] / row;
        }
        return acc;
    }
}
