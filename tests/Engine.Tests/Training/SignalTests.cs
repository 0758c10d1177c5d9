using System.Diagnostics;
using Engine.Layers;

namespace Engine.Tests;

/// <summary>
/// <c>engine train</c> as a separate process, stopped by signals: SIGINT (Ctrl-C) finishes the step,
/// writes a loadable checkpoint and config.json and exits 130; SIGKILL mid-run leaves the run that
/// was already in the folder byte for byte, and the next run clears what the killed one left.
/// </summary>
[Collection(nameof(MemoryCollection))]
public sealed class SignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-signals-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The CLI built beside the tests (the test project references it).</summary>
    private static string EngineDll => Path.Combine(AppContext.BaseDirectory, "engine.dll");

    /// <summary>Starts <c>engine train</c> into <paramref name="outDir"/>, for many epochs so that it is still running when signalled.</summary>
    private static Process StartTrain(string outDir)
    {
        var start = new ProcessStartInfo("dotnet", [EngineDll, "train", "--model", "mlp", "--epochs", "200", "--batch-size", "64", "--out", outDir])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["ENGINE_NUM_THREADS"] = "1";
        return Process.Start(start)!;
    }

    /// <summary>Reads the process's output until a line says an epoch ended (the model has trained), and returns what it read.</summary>
    private static string WaitForEpoch(Process p)
    {
        var seen = new System.Text.StringBuilder();
        var clock = Stopwatch.StartNew();
        while (p.StandardOutput.ReadLine() is { } line)
        {
            seen.AppendLine(line);
            if (line.StartsWith("epoch 1:", StringComparison.Ordinal)) return seen.ToString();
            if (clock.Elapsed > TimeSpan.FromMinutes(3)) break;
        }
        throw new Xunit.Sdk.XunitException($"no epoch line from engine train; output so far:\n{seen}\n{p.StandardError.ReadToEnd()}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Sends the signal with kill(2) itself: a bare system may have no kill program (Debian's minimal images lack procps).</summary>
    private static void Signal(Process p, string signal)
    {
        int number = signal switch { "INT" => 2, "KILL" => 9, _ => throw new ArgumentException(signal) };
        if (SysKill(p.Id, number) != 0)
            throw new InvalidOperationException($"kill({p.Id}, SIG{signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [Fact]
    public void Sigint_saves_a_loadable_checkpoint_with_its_config_and_exits_130()
    {
        string outDir = Path.Combine(_dir, "run");
        using var p = StartTrain(outDir);
        WaitForEpoch(p);
        Signal(p, "INT");
        string rest = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "engine train did not stop after SIGINT");
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("interrupted", rest);
        var model = Models.Create("mlp");
        model.Load(Path.Combine(outDir, "model.safetensors"));
        Assert.Contains("\"model\": \"mlp\"", File.ReadAllText(Path.Combine(outDir, "config.json")));
        Assert.Empty(Directory.GetDirectories(outDir, ".partial-*"));
    }

    [Fact]
    public void Sigkill_mid_run_leaves_the_earlier_run_whole_and_the_next_run_clears_the_remains()
    {
        string outDir = Path.Combine(_dir, "run");
        var first = new Engine.Cli.TrainOptions(Model: "mlp", Epochs: 1, BatchSize: 512, Out: outDir, Quiet: true);
        var w = new StringWriter();
        Assert.Equal(0, Engine.Cli.CliGuard.Run(w, () => Engine.Cli.TrainCommand.Run(first, w)));
        var before = Directory.GetFiles(outDir).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);

        using (var p = StartTrain(outDir))
        {
            WaitForEpoch(p);
            Signal(p, "KILL");
            Assert.True(p.WaitForExit(60_000));
        }
        var after = Directory.GetFiles(outDir).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
        Assert.Single(Directory.GetDirectories(outDir, ".partial-*"));   // what the killed run had written

        Assert.Equal(0, Engine.Cli.CliGuard.Run(w, () => Engine.Cli.TrainCommand.Run(first, w)));
        Assert.Empty(Directory.GetDirectories(outDir, ".partial-*"));
    }
}
