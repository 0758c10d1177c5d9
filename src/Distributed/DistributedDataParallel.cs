using System.Diagnostics;
using Engine.Layers;

namespace Engine.Distributed;

/// <summary>
/// Data-parallel training of one model over the processes of a <see cref="ProcessGroup"/>, as PyTorch's
/// DDP does it: at construction every parameter and buffer is overwritten by rank 0's, so all processes
/// start from the same weights; during each backward, gradients are copied into buckets (about 25 MB,
/// the last layers' first, since backward reaches them first) and each bucket is all-reduced
/// asynchronously as soon as its last gradient is complete, while the rest of the backward runs;
/// <see cref="SynchronizeGradients"/> (call it after <c>Backward()</c>, before the optimizer's step) waits for
/// the reductions and leaves every process holding the mean gradient. The optimizer then steps
/// identically everywhere. BatchNorm keeps per-process statistics.
/// </summary>
public sealed class DistributedDataParallel : IDisposable
{
    private sealed class Bucket(List<Parameter> parameters, int count)
    {
        public readonly List<Parameter> Parameters = parameters;
        public readonly float[] Buffer = GC.AllocateArray<float>(Math.Max(count, 1), pinned: true);
        public readonly int Count = count;
        public int Ready;
        public PendingAllReduce? Pending;
    }

    private readonly ProcessGroup _group;
    private readonly List<Bucket> _buckets = [];
    private readonly Dictionary<Parameter, (Bucket Bucket, int Offset)> _where = new(ReferenceEqualityComparer.Instance);
    private readonly List<IDisposable> _hooks = [];
    private readonly Stopwatch _sinceFirstLaunch = new();

    /// <summary>Wraps <paramref name="model"/> (float32 parameters) for data-parallel training over <paramref name="group"/>.</summary>
    public DistributedDataParallel(Module model, ProcessGroup group, long bucketBytes = 25L << 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 4);
        Model = model;
        _group = group;
        using (GradMode.NoGrad())
        {
            foreach (var p in model.Parameters()) group.Broadcast(p.Data);
            foreach (var (_, b) in model.NamedBuffers())
                if (b.DType is DType.Float32 or DType.Float64 or DType.Int64) group.Broadcast(b);
        }
        var trainable = model.Parameters(trainableOnly: true).ToList();
        foreach (var p in trainable)
            if (p.DType != DType.Float32)
                throw new DistributedException($"DistributedDataParallel: parameter of shape {p.Shape} is {p.DType.Name()}; float32 parameters are reduced");
        // buckets in reverse order of registration: backward completes the last layers' gradients first
        var current = new List<Parameter>();
        long elements = 0, perBucket = Math.Max(1, bucketBytes / sizeof(float));
        foreach (var p in Enumerable.Reverse(trainable))
        {
            if (current.Count > 0 && elements + p.Numel > perBucket) Close();
            current.Add(p);
            elements += p.Numel;
        }
        if (current.Count > 0) Close();
        foreach (var p in trainable) _hooks.Add(p.OnGradReady(v => GradReady((Parameter)v)));

        void Close()
        {
            var bucket = new Bucket(current, checked((int)elements));
            int offset = 0;
            foreach (var q in current)
            {
                _where[q] = (bucket, offset);
                offset += (int)q.Numel;
            }
            _buckets.Add(bucket);
            current = [];
            elements = 0;
        }
    }

    /// <summary>The model being trained.</summary>
    public Module Model { get; }

    /// <summary>The processes it trains over.</summary>
    public ProcessGroup Group => _group;

    /// <summary>How many buckets the gradients travel in.</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>Of the last step: seconds from the first bucket's launch to the end of backward (communication that overlapped).</summary>
    public double OverlappedSeconds { get; private set; }

    /// <summary>Of the last step: seconds <see cref="SynchronizeGradients"/> waited for reductions after backward (communication not hidden).</summary>
    public double WaitedSeconds { get; private set; }

    private void GradReady(Parameter p)
    {
        if (!_where.TryGetValue(p, out var at)) return;
        var bucket = at.Bucket;
        Copy(p, bucket, at.Offset);
        if (++bucket.Ready == bucket.Parameters.Count) Launch(bucket);
        // let MPI progress the reductions already in flight while backward goes on
        foreach (var b in _buckets) b.Pending?.Test();
    }

    private static void Copy(Parameter p, Bucket bucket, int offset)
    {
        var span = bucket.Buffer.AsSpan(offset, (int)p.Numel);
        if (p.Grad is { } g) g.Data.CopyTo<float>(span);
        else span.Clear();
    }

    private void Launch(Bucket bucket)
    {
        if (!_sinceFirstLaunch.IsRunning) _sinceFirstLaunch.Restart();
        bucket.Pending = _group.AllReduceAsync(bucket.Buffer, bucket.Count);
    }

    /// <summary>
    /// After <c>Backward()</c>: starts the buckets whose gradients never all arrived (parameters the loss did
    /// not reach count as zero), waits for every reduction, and writes the mean over processes into each
    /// parameter's <see cref="Variable.Grad"/>.
    /// </summary>
    public void SynchronizeGradients()
    {
        OverlappedSeconds = _sinceFirstLaunch.IsRunning ? _sinceFirstLaunch.Elapsed.TotalSeconds : 0;
        var clock = Stopwatch.StartNew();
        foreach (var bucket in _buckets)
            if (bucket.Pending is null)
            {
                foreach (var p in bucket.Parameters) Copy(p, bucket, _where[p].Offset);
                Launch(bucket);
            }
        float scale = 1f / _group.Size;
        foreach (var bucket in _buckets)
        {
            bucket.Pending!.Wait();
            var values = bucket.Buffer.AsSpan(0, bucket.Count);
            if (_group.Size > 1) System.Numerics.Tensors.TensorPrimitives.Multiply(values, scale, values);
            foreach (var p in bucket.Parameters)
            {
                var mean = values.Slice(_where[p].Offset, (int)p.Numel);
                if (p.Grad is null) p.Grad = new Variable(TensorScope.Escape(Tensor.Zeros([.. p.Shape], DType.Float32, p.Device)));
                p.Grad.Data.CopyFrom<float>(mean);
            }
            bucket.Pending = null;
            bucket.Ready = 0;
        }
        WaitedSeconds = clock.Elapsed.TotalSeconds;
        _sinceFirstLaunch.Reset();
    }

    /// <summary>Removes the gradient hooks (the model trains on its own again).</summary>
    public void Dispose()
    {
        foreach (var h in _hooks) h.Dispose();
        _hooks.Clear();
    }
}
