using System.CommandLine;
using Engine.Cli;
using Engine.Distributed;

int code = EntryPoint.Run(args, Console.Out, Console.Error);
// under mpirun every process ends MPI before it exits (MPI_Finalize), or the launcher reports it as failed
ProcessGroup.Launched?.Dispose();
return code;

namespace Engine.Cli
{
    /// <summary>The command line: the root command and its subcommands, with parse errors as one line and exit code 2.</summary>
    internal static class EntryPoint
    {
        public static RootCommand CreateRoot()
        {
            var root = new RootCommand("engine: a from-scratch tensor and autodiff engine");
            root.Subcommands.Add(TrainCommand.Create());
            root.Subcommands.Add(FinetuneCommand.Create());
            root.Subcommands.Add(EvalCommand.Create());
            root.Subcommands.Add(PredictCommand.Create());
            root.Subcommands.Add(GradCheckCommand.Create());
            root.Subcommands.Add(GraphCommand.Create());
            return root;
        }

        /// <summary>
        /// Parses <paramref name="args"/> and runs the command. A command line that does not parse
        /// (an unknown option or command, a value of the wrong type, a missing required option) is one
        /// line on <paramref name="error"/> naming the problem, with the closest option where one was
        /// misspelt, and exit code 2, as argparse does; the full help stays behind <c>--help</c>.
        /// </summary>
        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            // no command at all: the overview of commands, as git and dotnet print it
            var parse = CreateRoot().Parse(args.Length == 0 ? ["--help"] : args);
            if (args.Length == 0)
            {
                parse.Invoke(new InvocationConfiguration { Output = error, Error = error });
                return 2;
            }
            if (parse.Errors.Count > 0)
            {
                var command = parse.CommandResult.Command;
                string path = command is RootCommand ? "engine" : $"engine {command.Name}";
                var problems = parse.Errors.Select(e => Suggest(e.Message, command)).Distinct();
                error.WriteLine($"error: {string.Join(" ", problems)} (see '{path} --help')");
                return 2;
            }
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
        }

        /// <summary>The parser's message, with "did you mean" added for an unrecognized token close to an option or command name.</summary>
        private static string Suggest(string message, Command command)
        {
            const string unrecognized = "Unrecognized command or argument '";
            if (!message.StartsWith(unrecognized, StringComparison.Ordinal) || !message.EndsWith("'.", StringComparison.Ordinal)) return message;
            string token = message[unrecognized.Length..^2];
            var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Concat(command.Subcommands.Select(c => c.Name)).Distinct();
            var best = names.Select(n => (Name: n, Distance: EditDistance(token, n))).OrderBy(t => t.Distance).FirstOrDefault();
            return best.Name is not null && best.Distance <= Math.Max(2, token.Length / 3)
                ? $"{message[..^1]}; did you mean '{best.Name}'?"
                : message;
        }

        private static int EditDistance(string a, string b)
        {
            var row = Enumerable.Range(0, b.Length + 1).ToArray();
            for (int i = 1; i <= a.Length; i++)
            {
                int diagonal = row[0];
                row[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    int above = row[j];
                    row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                    diagonal = above;
                }
            }
            return row[b.Length];
        }
    }

    /// <summary>Shared handling of user-facing errors: one line and exit code 2.</summary>
    internal static class CliGuard
    {
        public static int Run(TextWriter output, Func<int> run)
        {
            try
            {
                return run();
            }
            catch (CliException e)
            {
                return Fail(output, e.Message);
            }
            catch (EngineException e)
            {
                return Fail(output, e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a file or folder the run reads or writes: the message names the path
                return Fail(output, e.Message);
            }
        }

        /// <summary>
        /// One line and exit code 2; in a job of several processes, the whole job ends (a process that returned
        /// alone would leave the others waiting in a collective).
        /// </summary>
        private static int Fail(TextWriter output, string message)
        {
            output.WriteLine($"error: {message}");
            output.Flush();
            if (ProcessGroup.Launched is { Size: > 1 } world)
                world.Abort($"rank {world.Rank}: {message}", 2);
            return 2;
        }
    }
}
