using System.CommandLine;
using Engine.Cli;

var root = new RootCommand("engine: a from-scratch tensor and autodiff engine");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(FinetuneCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(GradCheckCommand.Create());
return root.Parse(args).Invoke();

namespace Engine.Cli
{
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
                output.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (EngineException e)
            {
                output.WriteLine($"error: {e.Message}");
                return 2;
            }
        }
    }
}
