// Trains the MLP data-parallel for a few steps and saves each rank's weights, for MpiTests.
// Usage: Engine.MpiProbe OUT_DIR STEPS BATCH_PER_RANK [FAIL_RANK] [MODEL]  (bench/distributed.sh uses MODEL)
using Engine;
using Engine.Data;
using Engine.Distributed;
using Engine.Layers;
using Engine.Optim;

string outDir = args[0];
int steps = int.Parse(args[1]), batch = int.Parse(args[2]);
int failRank = args.Length > 3 ? int.Parse(args[3]) : -1;
string modelName = args.Length > 4 ? args[4] : "mlp";

using var group = ProcessGroup.World;
using var all = FashionMnist.LoadTrain();
using var data = MpiProbe.Data(all);
// a different initialisation on every rank: DistributedDataParallel must replace it with rank 0's
var model = modelName == "syncbn"
    ? MpiProbe.ConvBn(new Generator((ulong)(1 + group.Rank)), n => new SyncBatchNorm(n, group))
    : Models.Create(modelName, generator: new Generator((ulong)(1 + group.Rank)));
using var ddp = new DistributedDataParallel(model, group, bucketBytes: 64 << 10);
using var sgd = new SGD(model.Parameters(), lr: MpiProbe.LearningRate, momentum: MpiProbe.Momentum);
var loader = new DataLoader(data, batch, shuffle: true, seed: MpiProbe.ShuffleSeed) { Shard = (group.Rank, group.Size) };
var loss = new CrossEntropyLoss();
int step = 0;
double overlapped = 0, waited = 0;
File.WriteAllText(Path.Combine(outDir, $"pid{group.Rank}"), Environment.ProcessId.ToString());
// STEPS 0: train until killed (the test that kills one process)
foreach (var b in steps == 0 ? Enumerable.Range(0, int.MaxValue).SelectMany(loader.Batches) : loader.Batches(0))
{
    if (steps > 0 && step == steps) { b.Dispose(); break; }
    using (b)
    using (Tensor.Scope())
    {
        if (step == 2 && group.Rank == failRank) throw new InvalidOperationException("probe failure on purpose");
        sgd.ZeroGrad();
        loss.Call(model.Call(new Variable(b.Inputs)), new Variable(b.Labels)).Backward();
        ddp.SynchronizeGradients();
        sgd.Step();
        overlapped += ddp.OverlappedSeconds;
        waited += ddp.WaitedSeconds;
    }
    step++;
}
model.Save(Path.Combine(outDir, $"rank{group.Rank}.safetensors"));
// the same gradients' all-reduce alone, blocking: what the communication costs when nothing hides it
long numel = model.Parameters().Sum(p => p.Data.Numel);
var flat = new float[numel];
var clock = System.Diagnostics.Stopwatch.StartNew();
for (int i = 0; i < 20; i++) group.AllReduce(flat.AsSpan());
double blocking = clock.Elapsed.TotalSeconds / 20;
Console.WriteLine($"rank {group.Rank} of {group.Size} ({group.Launcher}): {step} steps, {ddp.BucketCount} buckets, " +
                  $"overlapped {overlapped * 1000:F1} ms, waited {waited * 1000:F1} ms");
if (group.Rank == 0)
    Console.WriteLine($"bench {modelName} params {numel} blocking_allreduce_ms {blocking * 1000:F3} " +
                      $"in_flight_during_backward_ms {overlapped * 1000 / Math.Max(step, 1):F3} waited_after_backward_ms {waited * 1000 / Math.Max(step, 1):F3}");
return 0;

/// <summary>What the probe trains on and with; MpiTests trains the same alone, for comparison.</summary>
public static class MpiProbe
{
    /// <summary>The learning rate and momentum of the probe's SGD.</summary>
    public const double LearningRate = 0.05, Momentum = 0.9;

    /// <summary>The seed of the loaders' shuffle.</summary>
    public const ulong ShuffleSeed = 5;

    /// <summary>The probe's training set: the first 2,048 images of the embedded subset.</summary>
    public static TensorDataset Data(TensorDataset all) => Take(all, 2048);

    /// <summary>A small conv net with a batch norm of the caller's kind (SyncBatchNorm here, BatchNorm2d in the test's one-process run).</summary>
    public static Sequential ConvBn(Generator generator, Func<int, Module> norm) => new(
        new Conv2d(1, 4, 3, padding: 1, generator: generator), norm(4), new ReLU(), new Flatten(), new Linear(4 * 28 * 28, 10, generator: generator));

    /// <summary>The first <paramref name="n"/> samples, as their own dataset.</summary>
    public static TensorDataset Take(TensorDataset all, int n) =>
        new(all.Inputs.Narrow(0, 0, n).Contiguous(), all.Labels.Narrow(0, 0, n).Contiguous());
}
