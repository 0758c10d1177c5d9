namespace Engine.Tests;

/// <summary>
/// Every C# block of README.md and docs/ compiles as a new user's Program.cs (the SDK's implicit usings
/// and nothing else: each block has its own <c>using Engine…;</c> lines), runs when it is a program, and
/// prints what the text after it shows (the conventions: <see cref="DocSnippet"/>).
/// </summary>
[Collection(nameof(DocSnippetCollection))]
public sealed class DocSnippetTests
{
    private static string Root => FashionMnistPaths.RepositoryRoot();

    public static TheoryData<string> Snippets()
    {
        var data = new TheoryData<string>();
        foreach (var file in DocSnippet.Files(Root))
            foreach (var s in DocSnippet.Read(Root, file))
                data.Add(s.ToString());
        return data;
    }

    private static DocSnippet Find(string id) =>
        DocSnippet.Files(Root).SelectMany(f => DocSnippet.Read(Root, f)).Single(s => s.ToString() == id);

    [Theory, MemberData(nameof(Snippets))]
    public void The_block_compiles_runs_and_prints_what_the_text_shows(string id)
    {
        var snippet = Find(id);
        switch (snippet.Kind)
        {
            case "excerpt":
                Assert.True(snippet.Argument is not null, $"{id}: 'snippet: excerpt' names no source file");
                // lines compared trimmed, without a trailing // comment (the text may annotate a line)
                static string Bare(string l) => System.Text.RegularExpressions.Regex.Replace(l, @"\s+//.*$", "").Trim();
                var source = File.ReadAllLines(Path.Combine(Root, snippet.Argument!)).Select(Bare).ToList();
                int at = 0;
                foreach (var line in snippet.Code.Split('\n').Select(Bare).Where(l => l.Length > 0 && l != "..."))
                {
                    int found = source.FindIndex(at, l => l == line);
                    Assert.True(found >= 0, $"{id}: the excerpt's line '{line}' is not in {snippet.Argument} (after line {at})");
                    at = found + 1;
                }
                return;
            case "run" or "compile":
                var (assembly, errors) = snippet.Compile();
                Assert.True(assembly is not null, $"{id} does not compile as a console app's Program.cs:\n{errors}\n--- the block ---\n{snippet.Code}");
                if (snippet.Kind == "compile")
                {
                    Assert.Null(snippet.Expected);   // text shown as its output would be unchecked
                    return;
                }
                string folder = Directory.CreateTempSubdirectory("engine-snippet-").FullName;
                try
                {
                    string printed = DocSnippet.Run(assembly!, folder);
                    // ENGINE_SNIPPET_OUTPUT=DIR keeps what the block wrote (how docs/learn/img/ is made)
                    if (Environment.GetEnvironmentVariable("ENGINE_SNIPPET_OUTPUT") is { Length: > 0 } keep)
                    {
                        string to = Path.Combine(keep, id.Replace('/', '_').Replace(':', '_'));
                        Directory.CreateDirectory(to);
                        foreach (var file in Directory.GetFiles(folder)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
                        File.WriteAllText(Path.Combine(to, "printed.txt"), printed);
                    }
                    if (snippet.Expected is { } expected)
                        Assert.True(DocSnippet.Compare(expected, printed) is not { } diff, $"{id}: {DocSnippet.Compare(expected, printed)}");
                }
                finally
                {
                    Directory.Delete(folder, recursive: true);
                }
                return;
            default:
                Assert.Fail($"{id}: unknown snippet kind '{snippet.Kind}' (run, compile, continues, excerpt)");
                return;
        }
    }

    [Fact]
    public void Every_output_shown_in_the_tutorial_is_checked()
    {
        var learn = Path.Combine(Root, "docs", "learn");
        Assert.True(Directory.Exists(learn), "docs/learn is missing");
        foreach (var file in Directory.GetFiles(learn, "*.md"))
            Assert.True(DocSnippet.UnclaimedOutputs(file) is [], $"{Path.GetFileName(file)}: text blocks at lines {string.Join(", ", DocSnippet.UnclaimedOutputs(file))} follow no C# block, so nothing checks them");
    }

    [Fact]
    public void The_conventions_hold_on_made_up_text()
    {
        string dir = Directory.CreateTempSubdirectory("engine-snippet-md-").FullName;
        try
        {
            string md = Path.Combine(dir, "x.md");
            File.WriteAllLines(md,
            [
                "```csharp", "Console.WriteLine(1 + 1);", "```", "", "It prints:", "", "```text", "2", "```",
                "<!-- snippet: continues -->", "```csharp", "Console.WriteLine(\"more\");", "```",
                "<!-- snippet: compile -->", "```csharp", "Console.WriteLine(Undefined);", "```",
            ]);
            var s = DocSnippet.Read(dir, md);
            Assert.Equal(3, s.Count);
            Assert.Equal(("run", "2\n"), (s[0].Kind, s[0].Expected!.Replace("\r", "")));
            Assert.Equal("run", s[1].Kind);
            Assert.Contains("1 + 1", s[1].Code);   // a continuation carries what it continues
            Assert.Equal("compile", s[2].Kind);
            var (assembly, _) = s[0].Compile();
            Assert.Equal("2\n", DocSnippet.Run(assembly!, dir).Replace("\r", ""));
            var (none, errors) = s[2].Compile();
            Assert.Null(none);
            Assert.Contains("Undefined", errors);
            Assert.Null(DocSnippet.Compare("a\n...\nd\n", "a\nb\nc\nd\n"));
            Assert.NotNull(DocSnippet.Compare("a\nd\n", "a\nb\nd\n"));
            Assert.Null(DocSnippet.Compare("took ...\nz\n", "took 3.1 s\nz\n"));
            Assert.NotNull(DocSnippet.Compare("took ...\n", "gave 3.1 s\n"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Blocks run one at a time, alone: they print to the console and change the working directory.</summary>
[CollectionDefinition(nameof(DocSnippetCollection), DisableParallelization = true)]
public sealed class DocSnippetCollection;
