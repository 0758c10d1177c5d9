using Engine.Data;
using Engine.Layers;
using Xunit.Abstractions;

namespace Engine.Tests;

/// <summary>
/// Every loader of bytes from outside, fuzzed from real seed files: each input loads or is refused
/// with the loader's typed exception, in bounded time and memory. A few thousand cases each in CI;
/// <c>ENGINE_FUZZ_CASES=10000</c> for the longer run.
/// </summary>
public sealed class LoaderFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The largest managed allocation one case may make (the seeds are a few hundred kB at most).</summary>
    private const long MemoryBound = 256L << 20;

    private void Check(FuzzReport r)
    {
        output.WriteLine(r.ToString());
        Assert.True(r.Untyped == 0 && r.Hangs == 0, r.ToString());
        Assert.True(r.Loaded > 0 && r.Typed > 0, $"the mutations should both keep and break some inputs: {r}");
        Assert.True(r.PeakManagedBytes < MemoryBound, r.ToString());
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Safetensors_files()
    {
        var lenet = Path.Combine(_dir, "lenet.safetensors");
        Models.LeNet(generator: new Generator(1)).Save(lenet);
        var mixed = Path.Combine(_dir, "mixed.safetensors");
        using (var scope = Tensor.Scope())
            SafeTensors.Save(mixed, new Dictionary<string, Tensor>
            {
                ["f32"] = Tensor.RandN(3, 4), ["f64"] = Tensor.RandN([2], 0, 1, DType.Float64), ["i32"] = Tensor.FromArray(new[] { 1, 2, 3 }),
                ["i64"] = Tensor.FromArray(new long[] { 7 }), ["bool"] = Tensor.FromArray(new[] { true, false }), ["scalar"] = Tensor.Scalar(2.5),
            }, new Dictionary<string, string> { ["format"] = "pt" });
        byte[][] seeds = [File.ReadAllBytes(lenet), File.ReadAllBytes(mixed)];
        Check(Fuzzer.Run("safetensors", Fuzzer.Cases(2000), 1, (i, rng) => Fuzzer.Mutate(seeds[i % 2], rng), bytes =>
        {
            string path = Write("case.safetensors", bytes);
            foreach (var t in SafeTensors.Load(path).Values) t.Dispose();
            SafeTensors.ReadShapes(path);
        }, e => e is CheckpointException));
    }

    [Fact]
    public void Idx_files_raw_and_gzipped()
    {
        using var data = FashionMnist.LoadTest();
        var pixels = data.Inputs.Narrow(0, 0, 40).ToArray<float>().Select(v => (byte)Math.Round(v * 255)).ToArray();
        var labels = data.Labels.Narrow(0, 0, 40).ToArray<long>().Select(l => (byte)l).ToArray();
        byte[] images = IdxFiles.Images(pixels, 40, 28, 28), labelFile = IdxFiles.Labels(labels);
        byte[][] seeds = [images, IdxFiles.Gzip(images), labelFile, IdxFiles.Gzip(labelFile)];
        Check(Fuzzer.Run("idx", Fuzzer.Cases(2000), 2, (i, rng) => Fuzzer.Mutate(seeds[i % 4], rng), bytes =>
        {
            string path = Write("case.idx", bytes);
            // the first two seeds are image files, the others label files
            if (bytes.Length > 3 && (bytes[3] == 3 || bytes[0] == 0x1f)) IdxReader.ReadImageBytes(path);
            else IdxReader.ReadLabelBytes(path);
        }, e => e is DataException));
    }
}
