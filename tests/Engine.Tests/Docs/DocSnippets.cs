using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Engine.Tests;

/// <summary>
/// The C# blocks of README.md and docs/ as they stand in the text. What a block is, is said by an HTML
/// comment on the line above its fence (none: a program to compile and run):
/// <list type="bullet">
/// <item><c>&lt;!-- snippet: compile --&gt;</c>: compiled, not run (it needs a GPU, a photo folder, minutes).</item>
/// <item><c>&lt;!-- snippet: continues --&gt;</c>: appended to the file's previous block (which must then compile too).</item>
/// <item><c>&lt;!-- snippet: excerpt PATH --&gt;</c>: lines quoted from the source file PATH; every line except
/// <c>...</c> must appear there, in order.</item>
/// </list>
/// A block followed by a <c>```text</c> block (blank lines or one line of prose ending in ':' between)
/// must print exactly that text; <c>...</c> alone on a line there matches any lines, and a line ending in
/// <c>...</c> any line that starts as it does (for times and speeds).
/// </summary>
public sealed record DocSnippet(string File, int Line, string Kind, string Code, string? Argument, string? Expected)
{
    /// <summary>How the test names it: file and line of the fence.</summary>
    public override string ToString() => $"{File}:{Line}";

    private static readonly Regex s_marker = new(@"^<!--\s*snippet:\s*(\w+)\s*(.*?)\s*-->\s*$");

    /// <summary>The markdown files whose C# blocks are checked: README.md and every .md under docs/.</summary>
    public static IEnumerable<string> Files(string root) =>
        new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

    /// <summary>Every C# block of <paramref name="path"/>, with continuations already joined to what they continue.</summary>
    public static List<DocSnippet> Read(string root, string path)
    {
        var lines = System.IO.File.ReadAllLines(path);
        string rel = Path.GetRelativePath(root, path).Replace('\\', '/');
        var result = new List<DocSnippet>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp") continue;
            int start = i;
            var code = new StringBuilder();
            for (i++; i < lines.Length && lines[i].Trim() != "```"; i++) code.AppendLine(lines[i]);
            var marker = start > 0 ? s_marker.Match(lines[start - 1].Trim()) : Match.Empty;
            string kind = marker.Success ? marker.Groups[1].Value : "run";
            string? argument = marker.Success && marker.Groups[2].Value.Length > 0 ? marker.Groups[2].Value : null;
            string? expected = ExpectedAfter(lines, i + 1);
            if (kind == "continues")
            {
                var previous = result.LastOrDefault(s => s.Kind is "run" or "compile")
                    ?? throw new InvalidOperationException($"{rel}:{start + 1}: 'snippet: continues' with no block before it");
                result.Add(new DocSnippet(rel, start + 1, previous.Kind, HoistUsings(previous.Code + code), null, expected));
            }
            else result.Add(new DocSnippet(rel, start + 1, kind, code.ToString(), argument, expected));
        }
        return result;
    }

    private static readonly Regex s_usingDirective = new(@"^using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>]+)?;\s*(//.*)?$");

    /// <summary>A continuation's using directives go to the top, where C# wants them.</summary>
    private static string HoistUsings(string code)
    {
        var lines = code.Replace("\r", "").Split('\n');
        var usings = lines.Where(l => s_usingDirective.IsMatch(l.Trim())).Select(l => l.Trim()).Distinct();
        return string.Join("\n", usings.Concat(lines.Where(l => !s_usingDirective.IsMatch(l.Trim()))));
    }

    /// <summary>
    /// The line numbers of <c>```text</c> blocks that no C# block claims as its output (in the tutorial every
    /// one is an output, so an unclaimed one is text that nothing checks).
    /// </summary>
    public static List<int> UnclaimedOutputs(string path)
    {
        var lines = System.IO.File.ReadAllLines(path);
        var claimed = new HashSet<int>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp") continue;
            for (i++; i < lines.Length && lines[i].Trim() != "```"; i++) { }
            if (OutputStart(lines, i + 1) is { } at) claimed.Add(at);
        }
        var result = new List<int>();
        for (int i = 0; i < lines.Length; i++)
            if (lines[i].Trim() == "```text" && !claimed.Contains(i)) result.Add(i + 1);
        return result;
    }

    private static int? OutputStart(string[] lines, int from)
    {
        int i = from;
        while (i < lines.Length && lines[i].Trim().Length == 0) i++;
        if (i < lines.Length && lines[i].TrimEnd().EndsWith(':') && !lines[i].StartsWith("```", StringComparison.Ordinal))
            for (i++; i < lines.Length && lines[i].Trim().Length == 0; i++) { }
        return i < lines.Length && lines[i].Trim() == "```text" ? i : null;
    }

    private static string? ExpectedAfter(string[] lines, int from)
    {
        if (OutputStart(lines, from) is not { } i) return null;
        var text = new StringBuilder();
        for (i++; i < lines.Length && lines[i].Trim() != "```"; i++) text.AppendLine(lines[i]);
        return text.ToString();
    }

    // ---- compiling and running ----------------------------------------------------------------

    /// <summary>What a new console project has without writing a using (the SDK's implicit usings).</summary>
    private const string ImplicitUsings =
        "global using System;\nglobal using System.Collections.Generic;\nglobal using System.IO;\nglobal using System.Linq;\n" +
        "global using System.Net.Http;\nglobal using System.Threading;\nglobal using System.Threading.Tasks;\n";

    private static readonly Lazy<List<MetadataReference>> s_references = new(() =>
    {
        // the framework, and the engine's assemblies as the test binaries carry them
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "Engine.*.dll").Where(p => !p.EndsWith("Engine.Tests.dll", StringComparison.Ordinal)))
            .Distinct();
        return [.. paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    /// <summary>Compiles the block as the Program.cs of a console app; the compiler's errors, with the block's line numbers, when it does not compile.</summary>
    public (byte[]? Assembly, string Errors) Compile()
    {
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(ImplicitUsings, options, "GlobalUsings.g.cs"),
            CSharpSyntaxTree.ParseText(Code, options, ToString()),
        };
        var compilation = CSharpCompilation.Create("Snippet_" + Guid.NewGuid().ToString("N"), trees, s_references.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, allowUnsafe: false, nullableContextOptions: NullableContextOptions.Enable));
        using var stream = new MemoryStream();
        var emitted = compilation.Emit(stream);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        return emitted.Success ? (stream.ToArray(), "") : (null, string.Join("\n", errors));
    }

    private static readonly object s_consoleLock = new();

    /// <summary>Runs a compiled block in <paramref name="folder"/> (its working directory) and returns what it printed.</summary>
    public static string Run(byte[] assembly, string folder)
    {
        var context = new AssemblyLoadContext("snippet", isCollectible: true);
        context.Resolving += (ctx, name) =>
        {
            string candidate = Path.Combine(AppContext.BaseDirectory, name.Name + ".dll");
            return System.IO.File.Exists(candidate) ? AssemblyLoadContext.Default.LoadFromAssemblyPath(candidate) : null;
        };
        try
        {
            var entry = context.LoadFromStream(new MemoryStream(assembly)).EntryPoint!;
            lock (s_consoleLock)
            {
                var output = new StringWriter();
                var (oldOut, oldDir) = (Console.Out, Directory.GetCurrentDirectory());
                Console.SetOut(output);
                Directory.SetCurrentDirectory(folder);
                try
                {
                    var result = entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
                    if (result is Task task) task.GetAwaiter().GetResult();
                }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                }
                finally
                {
                    Console.SetOut(oldOut);
                    Directory.SetCurrentDirectory(oldDir);
                }
                return output.ToString();
            }
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Null when <paramref name="actual"/> is what <paramref name="expected"/> shows ("..." lines and line ends as above); else the difference.</summary>
    public static string? Compare(string expected, string actual)
    {
        static List<string> Lines(string s) => [.. s.Replace("\r", "").TrimEnd('\n').Split('\n').Select(l => l.TrimEnd())];
        var want = Lines(expected);
        var got = Lines(actual);
        return Matches(want, 0, got, 0) ? null : $"the text shows:\n{string.Join("\n", want)}\nthe code printed:\n{string.Join("\n", got)}";
    }

    private static bool Matches(List<string> want, int i, List<string> got, int j)
    {
        if (i == want.Count) return j == got.Count;
        if (want[i].Trim() == "...")
        {
            for (int k = j; k <= got.Count; k++)
                if (Matches(want, i + 1, got, k)) return true;
            return false;
        }
        bool same = want[i].EndsWith("...", StringComparison.Ordinal)
            ? got.Count > j && got[j].StartsWith(want[i][..^3], StringComparison.Ordinal)
            : j < got.Count && want[i] == got[j];
        return same && Matches(want, i + 1, got, j + 1);
    }
}
