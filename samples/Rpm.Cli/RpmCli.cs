using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rpm.Evaluation;

namespace Rpm.Cli;

/// <summary>The <c>rpm</c> command: <c>eval</c>, <c>score</c>, <c>estimate</c>, <c>build</c> and <c>ask</c>.</summary>
public static class RpmCli
{
    /// <summary>Exit code: the command line was wrong (an unknown option, a bad value).</summary>
    public const int UsageError = 1;

    /// <summary>Exit code: a data file is malformed (the message names the file and the item).</summary>
    public const int DataError = 2;

    /// <summary>Exit code: the command needs a chat model and none is configured.</summary>
    public const int NoModel = 3;

    /// <summary>Exit code: the chat model failed: an endpoint given explicitly failed its test request, a build failed, or queries failed (a re-run retries exactly those).</summary>
    public const int ModelFailure = 4;

    /// <summary>Exit code: another rpm process holds the answer cache of this output folder.</summary>
    public const int Busy = 5;

    /// <summary>Exit code: a file could not be written (a full disk or quota, a read-only or failing disk); the message names the path, what to free, and which answers were saved.</summary>
    public const int StorageFailure = 6;

    /// <summary>Exit code: interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code: a bug; the message says so (RPM_DEBUG=1 prints the stack trace).</summary>
    public const int InternalError = 70;

    /// <summary>Runs the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Where results go (standard output).</param>
    /// <param name="error">Where progress and messages go (standard error).</param>
    /// <param name="services">The outside world; <see langword="null"/> for the real one.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>
    /// The exit code: 0 success, 1 usage error, 2 data error, 3 no model for a command that needs one, 4 model failure
    /// (the endpoint given failed, a build failed or queries failed), 5 the output folder's cache is in use by another run,
    /// 6 storage failure (a full or failing disk: the path, what to free, the answers saved), 70 internal error, 130 interrupted.
    /// </returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CliServices? services = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        services ??= new CliServices();
        var root = new RootCommand(
            "rpm: reasoning-level personalization (RPM) against the paper's baselines, on your model and data.\n" +
            "Exit codes: 0 success, 1 usage error, 2 data error, 3 no chat model configured, 4 model failure (re-run to retry the failed calls), 5 output folder in use by another run, 6 storage failure (a full or failing disk; re-run after freeing space: saved answers are not paid again), 70 internal error, 130 interrupted.");
        root.Subcommands.Add(EvalCommand.Create(output, error, services));
        root.Subcommands.Add(ScoreCommand.Create(output, error));
        root.Subcommands.Add(EstimateCommand.Create(output, error));
        root.Subcommands.Add(BuildCommand.Create(output, error, services));
        root.Subcommands.Add(AskCommand.Create(output, error, services));
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // The errors in plain words, without the whole help text after them.
            foreach (System.CommandLine.Parsing.ParseError parseError in parsed.Errors)
            {
                error.WriteLine($"Error: {parseError.Message}");
            }

            error.WriteLine($"Run 'rpm {(parsed.CommandResult.Command is RootCommand ? string.Empty : parsed.CommandResult.Command.Name + " ")}--help' for the options.");
            return UsageError;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
    }
}
