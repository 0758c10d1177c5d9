using System.Reflection;

namespace Engine.Onnx;

/// <summary>Where restore puts the pretrained models this project uses (PackageDownload in Engine.Onnx.csproj).</summary>
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
}
