using System.Reflection;
using Engine.Data;

namespace Engine.Onnx;

/// <summary>Where restore puts the pretrained models this project uses (PackageDownload in Engine.Onnx.csproj), and what they expect of images.</summary>
public static class PretrainedModels
{
    /// <summary>
    /// The ImageNet ResNet18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (a CNTK export, opset 8):
    /// under NUGET_PACKAGES when set, else under the package folder this assembly was restored with.
    /// </summary>
    public static string ResNet18Path
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? typeof(PretrainedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        }
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
