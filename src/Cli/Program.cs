using System.CommandLine;
using Engine.Cli;

var root = new RootCommand("engine: a from-scratch tensor and autodiff engine");
root.Subcommands.Add(GradCheckCommand.Create());
return root.Parse(args).Invoke();
