using System.Collections.Concurrent;
using System.Diagnostics;

namespace Engine;

/// <summary>
/// Writes a file whole or not at all: the bytes go to a temporary file beside it
/// (<c>.NAME.PID.RANDOM.tmp</c>), flushed to disk, then renamed over the target, so a process
/// killed mid-save leaves the previous file intact. Temporary files that a killed save left behind
/// are removed by the next save of the same name to that folder (those of processes still
/// running are kept).
/// </summary>
public static class AtomicFile
{
    /// <summary>The temporary files of saves under way in this process.</summary>
    private static readonly ConcurrentDictionary<string, byte> s_inFlight = new();

    /// <summary>Writes what <paramref name="write"/> puts in the stream to <paramref name="path"/>, atomically; the folder is created if missing.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(dir);
        RemoveStale(dir, name);
        string temp = Path.Combine(dir, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        s_inFlight[temp] = 0;
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            s_inFlight.TryRemove(temp, out _);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Deletes the temporary files of earlier saves of <paramref name="name"/> in <paramref name="dir"/> whose
    /// process has ended (or that carry no process id: the names earlier versions wrote).
    /// </summary>
    private static void RemoveStale(string dir, string name)
    {
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(dir, $".{name}.*.tmp").Concat(Directory.EnumerateFiles(dir, $"{name}.*tmp")).ToList();
        }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        foreach (var file in candidates)
        {
            if (s_inFlight.ContainsKey(file) || OwnerRunning(Path.GetFileName(file), name)) continue;
            try { File.Delete(file); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>True when <paramref name="file"/> (<c>.NAME.PID.RANDOM.tmp</c>) belongs to a process that still runs.</summary>
    private static bool OwnerRunning(string file, string name)
    {
        string prefix = $".{name}.";
        if (!file.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var parts = file[prefix.Length..].Split('.');
        if (parts.Length != 3 || !int.TryParse(parts[0], out int pid)) return false;
        if (pid == Environment.ProcessId) return false;         // not in flight here: a save of this process that failed to clean up
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }             // no such process
        catch (InvalidOperationException) { return false; }
    }
}
