namespace Engine.Data;

/// <summary>
/// Images decoded once and kept as 8-bit pixels, all at one size: samples are float32 [C, S, S]
/// with values in [0, 1] (C = 3 for RGB, 1 for grey), so that transforms (random crops, flips,
/// normalisation) run per batch on tensors.
/// </summary>
/// <remarks>
/// <see cref="Load"/> decodes the files in parallel with <see cref="ImageDecoder"/> and resamples each
/// (antialiased) to <see cref="ImageLoadOptions.Size"/>: its central square, or the whole image with
/// <see cref="ImageLoadOptions.Squash"/>. The pixels stay in memory, or in a temporary file when they
/// exceed the memory budget. A file that cannot be decoded fails the load with a
/// <see cref="DataException"/> naming it (the first such file in list order, whatever the thread
/// timing), or with <see cref="ImageLoadOptions.SkipBadImages"/> is left out and listed in
/// <see cref="Skipped"/>.
/// </remarks>
public sealed class ImageDataset : IDataset, IDisposable
{
    private readonly PixelStore _store;
    private readonly int[] _slots;
    private readonly long[] _labels;

    private ImageDataset(PixelStore store, int[] slots, IReadOnlyList<ImageFile> files, int channels, int size, IReadOnlyList<(string Path, string Reason)> skipped)
    {
        _store = store;
        _slots = slots;
        Files = [.. slots.Select(s => files[s])];
        Sources = slots;
        _labels = [.. Files.Select(f => (long)f.Label)];
        Channels = channels;
        Size = size;
        Skipped = skipped;
    }

    /// <summary>The file of each sample.</summary>
    public IReadOnlyList<ImageFile> Files { get; }

    /// <summary>For each sample, its position in the list given to <see cref="Load"/>.</summary>
    public IReadOnlyList<int> Sources { get; }

    /// <summary>The files left out because they could not be decoded, with the reason, in list order.</summary>
    public IReadOnlyList<(string Path, string Reason)> Skipped { get; }

    /// <summary>Channels per sample: 3 (RGB) or 1 (grey).</summary>
    public int Channels { get; }

    /// <summary>The side of every sample.</summary>
    public int Size { get; }

    /// <summary>Whether the pixels are in memory (false: in a temporary file).</summary>
    public bool InMemory => _store.FilePath is null;

    /// <inheritdoc/>
    public int Count => _slots.Length;

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public long LabelAt(int index)
    {
        CheckIndex("LabelAt", index);
        return _labels[index];
    }

    /// <summary>Decodes <paramref name="files"/> (see the remarks).</summary>
    public static ImageDataset Load(IReadOnlyList<ImageFile> files, ImageLoadOptions options)
    {
        if (options.Size < 1) throw new DataException($"ImageDataset: size {options.Size}: must be positive");
        int channels = options.Grey ? 1 : 3, record = channels * options.Size * options.Size;
        long budget = options.MemoryBudget ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;
        var store = new PixelStore(files.Count, record, budget, options.CacheDirectory);
        try
        {
            var errors = new string?[files.Count];
            int done = 0;
            var result = Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = options.Cancellation }, (i, loop) =>
            {
                if (loop.ShouldExitCurrentIteration && loop.LowestBreakIteration < i) return;
                try
                {
                    var image = ImageDecoder.Read(files[i].Path, options.Grey, options.Decode);
                    image = options.Squash ? image.Resized(options.Size, options.Size) : image.CroppedSquare(options.Size);
                    store.Write(i, image.Pixels);
                }
                catch (DataException e)
                {
                    errors[i] = e.Message;
                    if (!options.SkipBadImages) loop.Break();
                }
                options.Progress?.Report(Interlocked.Increment(ref done));
            });
            if (result.LowestBreakIteration is long first) throw new DataException(errors[first]!);
            var skipped = new List<(string, string)>();
            var slots = new List<int>();
            for (int i = 0; i < files.Count; i++)
                if (errors[i] is { } e)
                {
                    skipped.Add((files[i].Path, e));
                    options.Warning?.Invoke($"skipped {e}");
                }
                else slots.Add(i);
            return new ImageDataset(store, [.. slots], files, channels, options.Size, skipped);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public (Tensor Input, long Label) Get(int index)
    {
        CheckIndex("Get", index);
        var values = new float[_store.RecordBytes];
        Fill(index, values);
        return (Tensor.FromArray(values, Channels, Size, Size), _labels[index]);
    }

    /// <inheritdoc/>
    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        int record = _store.RecordBytes;
        var values = new float[(long)indices.Length * record];
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex("GetBatch", indices[i]);
            Fill(indices[i], values.AsSpan(i * record, record));
            labels[i] = _labels[indices[i]];
        }
        return new Batch(Tensor.FromArray(values, indices.Length, Channels, Size, Size), Tensor.FromArray(labels));
    }

    private void Fill(int index, Span<float> destination)
    {
        byte[] pixels = new byte[_store.RecordBytes];
        _store.Read(_slots[index], pixels);
        Pixel.HwcToChw(pixels, Size * Size, Channels, destination);
    }

    private void CheckIndex(string op, int index)
    {
        if ((uint)index >= (uint)_slots.Length)
            throw Errors.IndexError($"ImageDataset.{op}", [_slots.Length], $"sample {index} is out of range for {_slots.Length} images");
    }

    /// <summary>Frees the pixels (and deletes the temporary file).</summary>
    public void Dispose() => _store.Dispose();
}
