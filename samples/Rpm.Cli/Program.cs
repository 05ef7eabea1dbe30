using Rpm.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C stops cleanly (answers so far stay in the cache); a second one kills the process.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};

return await RpmCli.RunAsync(args, Console.Out, Console.Error, services: null, cancellation.Token);
