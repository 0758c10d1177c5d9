using System.Diagnostics;
using Engine.Data;
using Engine.Distributed;
using Engine.Layers;
using Engine.Optim;

namespace Engine.Tests;

/// <summary>
/// Data-parallel training under a real <c>mpirun -np 2</c> (Open MPI): the same weights as one process
/// with the whole batch, the same on both ranks bit for bit, and a failing rank ending the job.
/// Skipped once where mpirun is missing; <c>ENGINE_REQUIRE_MPI=1</c> (CI) makes that a failure.
/// </summary>
[Collection(nameof(DocSnippetCollection))]   // alone: two more processes on a two-core machine
public sealed class MpiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-mpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Probe => Path.Combine(AppContext.BaseDirectory, "Engine.MpiProbe.dll");

    private static string? MpiRun()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "mpirun"))) return Path.Combine(dir, "mpirun");
        return null;
    }

    private static string NeedMpiRun()
    {
        if (MpiRun() is { } path) return path;
        if (Environment.GetEnvironmentVariable("ENGINE_REQUIRE_MPI") == "1") Assert.Fail("mpirun not found, though ENGINE_REQUIRE_MPI=1 promises it (apt-get install openmpi-bin libopenmpi-dev)");
        Skip.If(true, "mpirun not found: the MPI tests need Open MPI (apt-get install openmpi-bin libopenmpi-dev)");
        return "";
    }

    /// <summary>Starts a program with its output read as it comes (TERM=dumb: no escape codes in mpirun's output; one thread per process).</summary>
    private static (Process Process, Task<string> Stdout, Task<string> Stderr) Start(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["TERM"] = "dumb";
        start.Environment["ENGINE_NUM_THREADS"] = "1";
        var p = Process.Start(start)!;
        return (p, p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
    }

    /// <summary>Runs a program to its end (killed, and a failure, after <paramref name="seconds"/>): exit code, standard output, both outputs.</summary>
    private static (int Code, string Stdout, string Output, double Seconds) Run(int seconds, string program, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        var (p, stdout, stderr) = Start(program, args);
        using (p)
        {
            if (!p.WaitForExit(seconds * 1000))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"{Path.GetFileName(program)} {string.Join(" ", args)} did not finish in {seconds} s: {stdout.Result}{stderr.Result}");
            }
            return (p.ExitCode, stdout.Result, stdout.Result + stderr.Result, clock.Elapsed.TotalSeconds);
        }
    }

    /// <summary>mpirun's arguments for two processes of a command (as root, and on a machine of fewer cores).</summary>
    private static string[] TwoRanks(params string[] command) => ["--allow-run-as-root", "--oversubscribe", "-np", "2", .. command];

    private static string EngineDll => Path.Combine(AppContext.BaseDirectory, "engine.dll");

    private (int Code, string Output, double Seconds) Launch(int ranks, params string[] args)
    {
        var (code, _, output, seconds) = Run(180, NeedMpiRun(), ["--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "dotnet", Probe, .. args]);
        return (code, output, seconds);
    }

    /// <summary>Rank 0's saved weights, after checking that rank 1 saved the same bits.</summary>
    private Dictionary<string, Tensor> IdenticalRankWeights()
    {
        var rank0 = SafeTensors.Load(Path.Combine(_dir, "rank0.safetensors"));
        var rank1 = SafeTensors.Load(Path.Combine(_dir, "rank1.safetensors"));
        foreach (var (name, t) in rank0)
            Assert.True(t.ToArray<float>().AsSpan().SequenceEqual(rank1[name].ToArray<float>()), $"{name} differs between the ranks");
        return rank0;
    }

    /// <summary>What the probe does, in this one process: <paramref name="steps"/> steps of the whole batch of the job.</summary>
    private static void TrainAlone(Module model, int steps, int wholeBatch)
    {
        using var all = FashionMnist.LoadTrain();
        using var data = MpiProbe.Data(all);
        using var sgd = new SGD(model.Parameters(), lr: MpiProbe.LearningRate, momentum: MpiProbe.Momentum);
        var loss = new CrossEntropyLoss();
        int step = 0;
        foreach (var b in new DataLoader(data, wholeBatch, shuffle: true, seed: MpiProbe.ShuffleSeed).Batches(0))
        {
            using (b)
            using (Tensor.Scope())
            {
                if (step++ == steps) break;
                sgd.ZeroGrad();
                loss.Call(model.Call(new Variable(b.Inputs)), new Variable(b.Labels)).Backward();
                sgd.Step();
            }
        }
    }

    [SkippableFact]
    public void Two_ranks_with_batch_b_train_like_one_process_with_batch_2b_and_agree_bit_for_bit()
    {
        const int steps = 6, batch = 32;
        var (code, output, _) = Launch(2, _dir, steps.ToString(), batch.ToString());
        Assert.True(code == 0, output);
        Assert.Contains("rank 0 of 2", output);
        Assert.Contains("rank 1 of 2", output);

        var rank0 = IdenticalRankWeights();

        // one process, the same data and seeds, a batch of 2B: rank 0's initialisation (Generator(1))
        var model = Models.Mlp(generator: new Generator(1));
        TrainAlone(model, steps, 2 * batch);
        double worst = 0;
        foreach (var (name, p) in model.NamedParameters())
        {
            var single = p.Data.ToArray<float>();
            var ddp = rank0[name].ToArray<float>();
            double scale = single.Max(v => Math.Abs((double)v));
            for (int i = 0; i < single.Length; i++) worst = Math.Max(worst, Math.Abs(single[i] - ddp[i]) / scale);
        }
        Assert.True(worst <= 1e-6, $"the largest difference from one process is {worst:E2} of a tensor's largest weight");
    }

    [SkippableFact]
    public void Sync_batch_norm_over_two_ranks_trains_like_batch_norm_over_the_whole_batch()
    {
        const int steps = 4, batch = 16;
        var (code, output, _) = Launch(2, _dir, steps.ToString(), batch.ToString(), "-1", "syncbn");
        Assert.True(code == 0, output);
        var rank0 = IdenticalRankWeights();

        // the probe's network with BatchNorm2d in place of SyncBatchNorm, rank 0's initialisation
        var model = MpiProbe.ConvBn(new Generator(1), n => new BatchNorm2d(n));
        TrainAlone(model, steps, 2 * batch);
        foreach (var (name, t) in model.StateDict())
        {
            var single = t.ToArray<float>();
            var ddp = rank0[name].ToArray<float>();
            double scale = Math.Max(single.Max(v => Math.Abs((double)v)), 1e-12);
            double worst = single.Zip(ddp, (u, v) => Math.Abs(u - v) / scale).Max();
            Assert.True(worst <= 1e-5, $"{name}: the largest difference from one process's BatchNorm is {worst:E2} of its largest value");
        }
    }

    [SkippableFact]
    public void A_failing_rank_ends_the_whole_job_with_its_message()
    {
        var (code, output, seconds) = Launch(2, _dir, "6", "32", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("probe failure on purpose", output);
        Assert.Contains("aborting all 2 processes", output);
        Assert.True(seconds < 120, $"the job took {seconds:F0} s to end");
        Assert.False(File.Exists(Path.Combine(_dir, "rank0.safetensors")), "rank 0 went on after rank 1 failed");
    }

    [SkippableFact]
    public void Killing_one_process_ends_the_whole_job_within_seconds()
    {
        var (p, stdout, stderr) = Start(NeedMpiRun(), TwoRanks("dotnet", Probe, _dir, "0", "32"));
        using var job = p;
        string pidFile = Path.Combine(_dir, "pid1");
        var wait = Stopwatch.StartNew();
        while (!File.Exists(pidFile) && wait.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited) Thread.Sleep(50);
        Assert.True(File.Exists(pidFile), "rank 1 never started training: " + (p.HasExited ? stdout.Result + stderr.Result : ""));
        Thread.Sleep(500);                                         // well inside training
        using (var rank1 = Process.GetProcessById(int.Parse(File.ReadAllText(pidFile)))) rank1.Kill();   // SIGKILL
        var clock = Stopwatch.StartNew();
        bool ended = p.WaitForExit(60_000);
        if (!ended) p.Kill(entireProcessTree: true);
        Assert.True(ended, "the job went on after one of its processes was killed");
        Assert.NotEqual(0, p.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the job took {clock.Elapsed.TotalSeconds:F0} s to end");
        Assert.Contains("signal 9", stdout.Result + stderr.Result);   // mpirun names what happened to which process
    }

    [SkippableFact]
    public void Mpirun_engine_train_trains_data_parallel_like_one_process_and_only_rank_0_speaks()
    {
        string outDir = Path.Combine(_dir, "run");
        var (code, stdout, output, _) = Run(180, NeedMpiRun(), TwoRanks("dotnet", EngineDll,
            "train", "--model", "mlp", "--epochs", "1", "--batch-size", "64", "--out", outDir, "--json", "--quiet"));
        Assert.True(code == 0, output);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Single(lines);                                          // rank 0's JSON only
        var json = System.Text.Json.JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal(2, json.GetProperty("world_size").GetInt32());
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));

        // one process, same options: the same test accuracy (the weights agree to float rounding)
        var w = new StringWriter();
        Assert.Equal(0, Engine.Cli.CliGuard.Run(w, () => Engine.Cli.TrainCommand.Run(
            new Engine.Cli.TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 64, Out: Path.Combine(_dir, "single"), Json: true, Quiet: true), w)));
        var single = System.Text.Json.JsonDocument.Parse(w.ToString().TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(single.GetProperty("test_accuracy").GetDouble(), json.GetProperty("test_accuracy").GetDouble(), 3);
        Assert.Equal(single.GetProperty("test_loss").GetDouble(), json.GetProperty("test_loss").GetDouble(), 4);
    }

    [SkippableFact]
    public void Mpirun_engine_finetune_fine_tunes_data_parallel_like_one_process()
    {
        // the pretrained run keeps its batch norms frozen, so two half batches train exactly what one whole batch does (to rounding)
        string[] options = ["finetune", "--train-size", "120", "--test-size", "100", "--image-size", "32", "--head-epochs", "1", "--tune-epochs", "1",
                            "--batch-size", "32", "--skip-scratch", "--json", "--quiet"];
        var (code, stdout, output, _) = Run(300, NeedMpiRun(), TwoRanks(["dotnet", EngineDll, .. options, "--out", Path.Combine(_dir, "ft")]));
        Assert.True(code == 0, output);
        var json = System.Text.Json.JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(2, json.GetProperty("world_size").GetInt32());

        var (oneCode, oneStdout, oneOutput, _) = Run(300, "dotnet", [EngineDll, .. options, "--out", Path.Combine(_dir, "ft1")]);
        Assert.True(oneCode == 0, oneOutput);
        var one = System.Text.Json.JsonDocument.Parse(oneStdout.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(one.GetProperty("pretrained_test_accuracy").GetDouble(), json.GetProperty("pretrained_test_accuracy").GetDouble(), 3);
    }

    [Fact]
    public void Without_a_launcher_the_group_is_this_process_alone()
    {
        if (ProcessGroup.DetectLauncher() is not null) return;   // run under mpirun itself
        var group = ProcessGroup.World;
        Assert.False(group.IsDistributed);
        Assert.Equal((0, 1), (group.Rank, group.Size));
        float[] values = [1, 2, 3];
        group.AllReduce(values.AsSpan());
        Assert.Equal(new float[] { 1, 2, 3 }, values);
    }

    [Fact]
    public void Shards_of_a_loader_are_the_slices_of_the_whole_batches()
    {
        using var data = new TensorDataset(Tensor.Arange(0, 10).Reshape(10, 1), Tensor.Arange(0, 10, dtype: DType.Int64));
        long[] Labels(DataLoader l) => [.. l.Batches(0).SelectMany(b => { using (b) return b.Labels.ToArray<long>(); })];
        var whole = new DataLoader(data, 4, shuffle: true, seed: 3);
        var shard0 = new DataLoader(data, 2, shuffle: true, seed: 3) { Shard = (0, 2) };
        var shard1 = new DataLoader(data, 2, shuffle: true, seed: 3) { Shard = (1, 2) };
        Assert.Equal(3, shard0.BatchCount);               // 4 + 4 + a last global batch of 2: one each
        var w = Labels(whole);
        var (a, b) = (Labels(shard0), Labels(shard1));
        long[] interleaved = [.. a[0..2], .. b[0..2], .. a[2..4], .. b[2..4], a[4], b[4]];
        Assert.Equal(w, interleaved);
        Assert.Empty(a.Intersect(b));
        Assert.Throws<EngineException>(() => new DataLoader(data, 2) { Shard = (2, 2) });
    }
}
