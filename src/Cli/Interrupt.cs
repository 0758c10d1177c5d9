namespace Engine.Cli;

/// <summary>
/// Ctrl-C during a run: the first press asks the run to stop after the step under way (the command
/// then saves what it has and exits 130); a second press ends the process at once.
/// </summary>
internal sealed class Interrupt : IDisposable
{
    /// <summary>The exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int ExitCode = 130;

    private readonly CancellationTokenSource _source = new();

    public Interrupt() => Console.CancelKeyPress += OnCancel;

    /// <summary>Signalled by the first Ctrl-C.</summary>
    public CancellationToken Token => _source.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested)
        {
            // the second press ends the process now: show the cursor the progress display hid
            if (!Console.IsOutputRedirected) Console.Out.Write("\u001b[?25h\n");
            return;
        }
        e.Cancel = true;
        _source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _source.Dispose();
    }
}
