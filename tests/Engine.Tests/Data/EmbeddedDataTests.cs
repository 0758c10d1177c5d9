using System.Diagnostics;
using System.IO.Compression;
using Engine.Data;

namespace Engine.Tests;

/// <summary>The embedded subset is part of the repository, so CI and a fresh clone train without a network.</summary>
public sealed class EmbeddedDataTests
{
    private static readonly string[] Files =
    [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ];

    [Fact]
    public void The_four_subset_files_are_in_the_repository_as_gzip()
    {
        var dir = Path.Combine(FashionMnistPaths.RepositoryRoot(), FashionMnist.SubsetRelativeDirectory);
        foreach (var name in Files)
        {
            var path = Path.Combine(dir, name);
            Assert.True(File.Exists(path), $"{path} is missing");
            using var f = File.OpenRead(path);
            Assert.True(f.ReadByte() == 0x1f && f.ReadByte() == 0x8b, $"{path} is not gzip");
        }
        Assert.True(File.Exists(Path.Combine(FashionMnistPaths.RepositoryRoot(), "data", "make-fashion-mnist-subset.py")));
    }

    [Fact]
    public void Ci_fetches_nothing_for_the_data()
    {
        var run = File.ReadAllText(Path.Combine(FashionMnistPaths.RepositoryRoot(), ".ci", "run"));
        foreach (var fetch in new[] { "curl", "wget", "http://", "https://", "dataset-fashion-mnist" })
            Assert.DoesNotContain(fetch, run);
    }

    [Fact]
    public void The_subset_files_are_tracked_by_git()
    {
        var root = FashionMnistPaths.RepositoryRoot();
        if (!Directory.Exists(Path.Combine(root, ".git")) && !File.Exists(Path.Combine(root, ".git"))) return; // an unpacked archive, not a clone
        var start = new ProcessStartInfo("git", ["-C", root, "ls-files", "--error-unmatch", .. Files.Select(f => $"{FashionMnist.SubsetRelativeDirectory}/{f}")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process? git;
        try { git = Process.Start(start); }
        catch (System.ComponentModel.Win32Exception) { return; } // no git on this machine
        using var proc = git ?? throw new InvalidOperationException("git did not start");
        string output = proc.StandardOutput.ReadToEnd() + proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        Assert.True(proc.ExitCode == 0, output);
    }

    [Fact]
    public void The_subset_files_are_gzipped_without_a_timestamp()
    {
        // make-fashion-mnist-subset.py writes mtime 0 so a rerun gives byte-identical files.
        var dir = FashionMnist.SubsetDirectory();
        foreach (var name in Files)
        {
            var header = new byte[8];
            using (var f = File.OpenRead(Path.Combine(dir, name))) f.ReadExactly(header);
            Assert.Equal(0, BitConverter.ToInt32(header, 4));
        }
        using var gz = new GZipStream(File.OpenRead(Path.Combine(dir, Files[1])), CompressionMode.Decompress);
        using var labels = new MemoryStream();
        gz.CopyTo(labels);
        Assert.Equal(8 + 10000, labels.Length);
    }
}
