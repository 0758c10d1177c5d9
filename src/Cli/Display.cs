using Engine.Training;
using Spectre.Console;

namespace Engine.Cli;

/// <summary>
/// Where a command's progress goes: live bars with ETA on an interactive terminal (Spectre.Console),
/// plain lines otherwise (redirected output, <c>--json</c>, <c>--quiet</c>, tests).
/// </summary>
internal sealed class Display
{
    private readonly ProgressContext? _bars;
    private readonly TextWriter _output;
    private readonly bool _quiet;

    private Display(ProgressContext? bars, TextWriter output, bool quiet)
    {
        _bars = bars;
        _output = output;
        _quiet = quiet;
    }

    /// <summary>
    /// Runs <paramref name="body"/> with bars when <paramref name="output"/> is the console of a person
    /// (not redirected) and neither <paramref name="quiet"/> (no lines either) nor <paramref name="plain"/>
    /// (lines only, as for <c>--json</c>) was asked for; the terminal is restored however it ends.
    /// </summary>
    public static T Run<T>(TextWriter output, bool quiet, bool plain, Func<Display, T> body)
    {
        if (quiet || plain || output != Console.Out || Console.IsOutputRedirected) return body(new Display(null, output, quiet));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => result = body(new Display(ctx, output, quiet)));
        return result;
    }

    /// <summary>A line of text above the bars (or on its own).</summary>
    public void Line(string text)
    {
        if (_quiet) return;
        if (_bars is not null) AnsiConsole.MarkupLine(Markup.Escape(text));
        else _output.WriteLine(text);
    }

    /// <summary>A bar counting to <paramref name="total"/> (reports may come from several threads); nothing without a terminal.</summary>
    public IProgress<int>? Counter(string what, int total)
    {
        if (_bars is null) return null;
        var task = _bars.AddTask(Markup.Escape(what), maxValue: Math.Max(total, 1));
        return new Sync<int>(n => task.Value = n);
    }

    /// <summary>A bar for <c>Trainer.Fit</c>: its epochs' steps, the running loss and accuracy; nothing without a terminal.</summary>
    public IProgress<TrainingProgress>? Training(string what)
    {
        if (_bars is null) return null;
        ProgressTask? task = null;
        return new Sync<TrainingProgress>(p =>
        {
            task ??= _bars.AddTask(Markup.Escape(what), maxValue: p.Epochs * (double)p.Batches);
            task.Value = (p.Epoch - 1) * (double)p.Batches + p.Batch;
            task.Description = Markup.Escape($"{what} {p.Epoch}/{p.Epochs}  loss {p.Loss:F3}  acc {p.Accuracy * 100:F1}%  {p.SamplesPerSecond:F0}/s");
        });
    }

    /// <summary>Reports synchronously on the reporting thread (System.Progress would post to the thread pool).</summary>
    public sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
