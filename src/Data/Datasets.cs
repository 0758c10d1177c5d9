namespace Engine.Data;

/// <summary>Operations on whole datasets: seeded random splits.</summary>
public static class Datasets
{
    /// <summary>
    /// Splits <paramref name="dataset"/> into subsets of the given sizes (which must add up to its
    /// count) after shuffling its indices with <paramref name="seed"/> (PyTorch's <c>random_split</c>):
    /// the same seed gives the same split.
    /// </summary>
    public static Subset[] RandomSplit(IDataset dataset, IReadOnlyList<int> counts, ulong seed)
    {
        long total = 0;
        foreach (int c in counts)
        {
            if (c < 0) throw new EngineException($"RandomSplit: counts ({string.Join(", ", counts)}): counts must be non-negative");
            total += c;
        }
        if (total != dataset.Count)
            throw new EngineException($"RandomSplit: counts ({string.Join(", ", counts)}): they add up to {total} but the dataset holds {dataset.Count} samples");
        var perm = Seeds.Permutation(dataset.Count, seed);
        var parts = new Subset[counts.Count];
        int start = 0;
        for (int p = 0; p < parts.Length; p++)
        {
            parts[p] = new Subset(dataset, perm.AsSpan(start, counts[p]).ToArray());
            start += counts[p];
        }
        return parts;
    }

    /// <summary>
    /// Splits <paramref name="dataset"/> into subsets of the given fractions (each in [0, 1], adding
    /// up to 1). Each part gets ⌊fraction·N⌋ samples and the samples left over go one each to the
    /// first parts, as in PyTorch.
    /// </summary>
    public static Subset[] RandomSplit(IDataset dataset, IReadOnlyList<double> fractions, ulong seed)
    {
        double sum = 0;
        foreach (double f in fractions)
        {
            if (!(f >= 0 && f <= 1)) throw new EngineException($"RandomSplit: fractions ({string.Join(", ", fractions)}): each must lie in [0, 1]");
            sum += f;
        }
        if (Math.Abs(sum - 1) > 1e-6)
            throw new EngineException($"RandomSplit: fractions ({string.Join(", ", fractions)}): they add up to {sum}, not 1");
        var counts = new int[fractions.Count];
        int assigned = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = (int)Math.Floor(dataset.Count * fractions[i]);
            assigned += counts[i];
        }
        for (int i = 0; assigned < dataset.Count; i = (i + 1) % counts.Length, assigned++) counts[i]++;
        return RandomSplit(dataset, counts, seed);
    }

    /// <summary>
    /// A seeded train/validation split: <paramref name="validationFraction"/> of the samples
    /// (rounded down) for validation, the rest for training.
    /// </summary>
    public static (Subset Train, Subset Validation) TrainValidationSplit(IDataset dataset, double validationFraction, ulong seed)
    {
        if (!(validationFraction >= 0 && validationFraction <= 1))
            throw new EngineException($"TrainValidationSplit: validation fraction {validationFraction}: must lie in [0, 1]");
        int validation = (int)Math.Floor(dataset.Count * validationFraction);
        var parts = RandomSplit(dataset, [dataset.Count - validation, validation], seed);
        return (parts[0], parts[1]);
    }
}
