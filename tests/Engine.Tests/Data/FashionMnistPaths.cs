namespace Engine.Tests;

/// <summary>Where the repository and its embedded subset are, seen from the test binaries.</summary>
public static class FashionMnistPaths
{
    public static string Subset() => Engine.Data.FashionMnist.SubsetDirectory();

    /// <summary>The repository root: the first folder above the test binaries holding Engine.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Engine.sln above {AppContext.BaseDirectory}");
    }
}
