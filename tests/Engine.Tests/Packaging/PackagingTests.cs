using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using Engine.Data;
using Engine.Kernels;

namespace Engine.Tests;

/// <summary>
/// What each package carries: the CPU core references no GPU compiler and no native library, the
/// GPU backend plugs in by being referenced, the embedded data is inside the assembly. (samples/run.sh,
/// run by CI, checks the packages themselves from a user's project, and the NativeAOT publish.)
/// </summary>
public sealed class PackagingTests
{
    private static readonly string[] Core = ["Engine.Kernels", "Engine.Tensors", "Engine.Autograd", "Engine.Layers", "Engine.Optim", "Engine.Data"];

    /// <summary>The assembly names <paramref name="name"/>.dll references, read from its metadata.</summary>
    private static List<string> ReferencesOf(string name)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, name + ".dll"));
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        return [.. md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name))];
    }

    [Fact]
    public void The_cpu_core_references_no_gpu_compiler_plotting_or_native_wrapper()
    {
        string[] banned = ["ILGPU", "ILGPU.Algorithms", "ScottPlot", "SkiaSharp", "Engine.Ilgpu", "Engine.Plots", "Google.Protobuf"];
        foreach (var assembly in Core)
        {
            var refs = ReferencesOf(assembly);
            Assert.Empty(refs.Intersect(banned));
            Assert.All(refs.Where(r => r.StartsWith("Engine.", StringComparison.Ordinal)), r => Assert.Contains(r, Core));
        }
    }

    [Fact]
    public void Only_the_plots_package_draws_with_a_native_library()
    {
        foreach (var assembly in Core.Concat(["Engine.Ilgpu", "Engine.Training", "Engine.Onnx"]))
            Assert.DoesNotContain(ReferencesOf(assembly), r => r is "ScottPlot" or "SkiaSharp");
        Assert.Contains("ScottPlot", ReferencesOf("Engine.Plots"));
    }

    [Fact]
    public void The_ilgpu_backend_registers_its_devices_when_it_is_referenced()
    {
        // this test project references Engine.Ilgpu, so the core finds it without being told
        Assert.NotNull(Accelerators.Provider);
        Assert.Contains(Device.IlgpuCpu, Device.Available());
        Assert.Equal(Device.IlgpuCpu, Device.IlgpuCpu.CheckAvailable());
    }

    [Fact]
    public void A_device_of_a_kind_the_machine_lacks_names_the_devices_it_has()
    {
        var e = Assert.Throws<DeviceException>(() => Device.Cuda(7).CheckAvailable());
        Assert.Contains("cuda:7", e.Message);
        Assert.Contains("cpu", e.Message);
    }

    [Fact]
    public void The_fashion_mnist_subset_is_inside_the_data_assembly_byte_for_byte()
    {
        var dir = Path.Combine(FashionMnistPaths.RepositoryRoot(), FashionMnist.SubsetRelativeDirectory);
        Assert.Equal(4, FashionMnist.EmbeddedFiles.Count);
        foreach (var name in FashionMnist.EmbeddedFiles)
        {
            using var embedded = FashionMnist.OpenEmbedded(name);
            using var copy = new MemoryStream();
            embedded.CopyTo(copy);
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, name)), copy.ToArray());
        }
        Assert.Throws<DataException>(() => FashionMnist.OpenEmbedded("train-images.zip"));
    }

    [Fact]
    public void The_embedded_subset_equals_the_repository_copy()
    {
        // LoadTest() with no folder reads the assembly's resources (no path involved; samples/run.sh runs it far from the repository)
        using var fromFolder = FashionMnist.LoadTest(Path.Combine(FashionMnistPaths.RepositoryRoot(), FashionMnist.SubsetRelativeDirectory));
        using var embedded = FashionMnist.LoadTest();
        Assert.Equal(2000, embedded.Count);
        Assert.Equal(fromFolder.Inputs.ToArray<float>(), embedded.Inputs.ToArray<float>());
        Assert.Equal(fromFolder.Labels.ToArray<long>(), embedded.Labels.ToArray<long>());
    }

    [Fact]
    public void Every_src_project_packs_with_the_metadata_a_package_needs()
    {
        var root = FashionMnistPaths.RepositoryRoot();
        var props = XDocument.Load(Path.Combine(root, "src", "Directory.Build.props"));
        string Prop(string name) => props.Descendants(name).Single().Value;
        Assert.Equal("true", Prop("IsPackable"));
        Assert.Equal("MIT", Prop("PackageLicenseExpression"));
        Assert.Equal("README.md", Prop("PackageReadmeFile"));
        Assert.Equal("snupkg", Prop("SymbolPackageFormat"));
        foreach (var project in Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories))
            Assert.True(XDocument.Load(project).Descendants("Description").Any(), $"{project} has no Description for its package");

        // the samples ask for the version the packages are made with
        var samples = XDocument.Load(Path.Combine(root, "samples", "Directory.Build.props"));
        Assert.Equal(Prop("Version"), samples.Descendants("EngineVersion").Single().Value);
        Assert.Equal(Prop("Version"), typeof(Tensor).Assembly.GetName().Version!.ToString(3));
    }
}
