using System.Diagnostics;

namespace Engine.Cli;

/// <summary>
/// A run's output folder (<c>--out</c>), written so that a failed or killed run never damages the run
/// already there: files go to a staging folder inside it (<c>.partial-PID-RANDOM</c>) and move into
/// place only when the run ends well or is stopped with Ctrl-C (<see cref="Commit"/>). A run that
/// fails keeps its files in <c>failed-TIME</c> beside the earlier run's (or in the folder itself when
/// it held no run, <see cref="Fail"/>). A killed run leaves only its staging folder, which the next
/// run in that folder removes.
/// </summary>
internal sealed class RunFolder : IDisposable
{
    private const string StagingPrefix = ".partial-";
    private static readonly string[] s_runFiles = ["config.json", "model.safetensors", "best.safetensors", "metrics.csv"];
    private bool _ended;

    private RunFolder(string final, string staging, bool heldRun)
    {
        Final = final;
        Staging = staging;
        HeldRun = heldRun;
    }

    /// <summary>The folder the user named.</summary>
    public string Final { get; }

    /// <summary>Where the run writes until it ends.</summary>
    public string Staging { get; }

    /// <summary>True when <see cref="Final"/> held an earlier run's files when this one began.</summary>
    public bool HeldRun { get; }

    /// <summary>
    /// Checks that <paramref name="outDir"/> is (or can become) a folder this process can write, removes
    /// the staging folders of runs killed there, and starts a staging folder.
    /// </summary>
    public static RunFolder Begin(string outDir)
    {
        Check(outDir);
        try
        {
            Directory.CreateDirectory(outDir);
            RemoveStale(outDir);
            bool held = s_runFiles.Any(f => System.IO.File.Exists(Path.Combine(outDir, f)));
            string staging = Path.Combine(outDir, $"{StagingPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            return new RunFolder(outDir, staging, held);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--out {outDir}: cannot write there ({e.Message})");
        }
    }

    /// <summary>
    /// Refuses an <paramref name="outDir"/> that names a file or a place this process cannot create or
    /// write, before a run spends any time; creates the folder.
    /// </summary>
    public static void Check(string outDir)
    {
        if (System.IO.File.Exists(outDir)) throw new CliException($"--out {outDir}: is a file; name a folder (it is created if missing)");
        try
        {
            Directory.CreateDirectory(outDir);
            string probe = Path.Combine(outDir, $".probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            System.IO.File.WriteAllBytes(probe, []);
            System.IO.File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--out {outDir}: cannot write there ({e.Message})");
        }
    }

    /// <summary>The path of <paramref name="name"/> while the run writes it.</summary>
    public string File(string name) => Path.Combine(Staging, name);

    /// <summary>The path of <paramref name="name"/> once the run has ended well.</summary>
    public string Where(string name) => Path.Combine(Final, name);

    /// <summary>Moves every staged file and folder into <see cref="Final"/>, replacing those of the same name.</summary>
    public void Commit()
    {
        if (_ended) return;
        _ended = true;
        foreach (var dir in Directory.GetDirectories(Staging))
        {
            string target = Path.Combine(Final, Path.GetFileName(dir));
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(dir, target);
        }
        foreach (var file in Directory.GetFiles(Staging))
            System.IO.File.Move(file, Path.Combine(Final, Path.GetFileName(file)), overwrite: true);
        Directory.Delete(Staging, recursive: true);
    }

    /// <summary>
    /// Ends a failed run: its files join <see cref="Final"/> when that held no earlier run, and otherwise
    /// go to a new folder <c>failed-TIME</c> inside it, so the earlier run stays whole. Returns the folder
    /// that holds them.
    /// </summary>
    public string Fail()
    {
        if (_ended) return Final;
        if (!HeldRun || !Directory.EnumerateFileSystemEntries(Staging).Any())
        {
            Commit();
            return Final;
        }
        _ended = true;
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
        string target = Path.Combine(Final, $"failed-{stamp}");
        for (int k = 2; Directory.Exists(target) || System.IO.File.Exists(target); k++) target = Path.Combine(Final, $"failed-{stamp}-{k}");
        Directory.Move(Staging, target);
        return target;
    }

    /// <summary>A run that ends without <see cref="Commit"/> or <see cref="Fail"/> (an exception) fails.</summary>
    public void Dispose()
    {
        try { Fail(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Deletes the staging folders of runs whose process has ended.</summary>
    private static void RemoveStale(string outDir)
    {
        foreach (var dir in Directory.GetDirectories(outDir, StagingPrefix + "*"))
        {
            string rest = Path.GetFileName(dir)[StagingPrefix.Length..];
            int dash = rest.IndexOf('-');
            // kept: a folder of a run still going, in another process or in this one (tests run several at once)
            if (dash > 0 && int.TryParse(rest[..dash], out int pid) && (pid == Environment.ProcessId || Running(pid))) continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private static bool Running(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
