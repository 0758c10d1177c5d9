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

/// <summary>The README's data example runs as written.</summary>
public sealed class ReadmeDataTests
{
    [Fact]
    public void The_readme_data_example_runs()
    {
        using var scope = Tensor.Scope();
        using var train = FashionMnist.LoadTrain();
        var (fit, validation) = Datasets.TrainValidationSplit(train, 0.1, seed: 1);
        var augment = new Compose(new RandomCrop(28, padding: 2, seed: 2), new RandomHorizontalFlip(seed: 3),
                                  new Normalize([0.2860], [0.3530]));
        var loader = new DataLoader(fit, batchSize: 128, shuffle: true, seed: 4, dropLast: true, transform: augment);
        int batches = 0;
        foreach (var batch in loader)
            using (batch)
            {
                Assert.Equal(new[] { 128, 1, 28, 28 }, batch.Inputs.Shape.ToArray());
                Assert.Equal(new[] { 128 }, batch.Labels.Shape.ToArray());
                batches++;
            }
        Assert.Equal((9000, 1000), (fit.Count, validation.Count));
        Assert.Equal(9000 / 128, batches);
    }
}
