using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Rpm;

/// <summary>
/// Maps RPM's exceptions to RFC 9457 problem details with the HTTP status a caller can act on. The exception handler
/// that <c>services.AddRpmProblemDetails()</c> registers (an ASP.NET Core <c>IExceptionHandler</c>, run by
/// <c>app.UseExceptionHandler()</c>) answers with them; call <see cref="Create"/> to map an exception yourself.
/// </summary>
/// <remarks>
/// <para>The mapping, looking through wrapping exceptions (a stage's <see cref="RpmStageException"/> wraps the endpoint's):</para>
/// <list type="table">
/// <item><term>400</term><description>An <see cref="ArgumentException"/> thrown by RPM: the caller's input is invalid (a history item with an output
/// outside the task's scale, a repeated id, an empty history). The detail is RPM's message, which names the item and the problem.</description></item>
/// <item><term>409</term><description><see cref="UserModelConcurrencyException"/>: another writer saved the user's model first; the detail names the user and the versions.</description></item>
/// <item><term>502</term><description><see cref="RpmModelOutputException"/> (and <see cref="RpmRefusalException"/>): the model's answer could not be used.
/// It is not the caller's fault; the detail names the stage, the item and the kind of failure, never the model's text.</description></item>
/// <item><term>503</term><description><see cref="RpmEndpointException"/> (and <see cref="RpmRateLimitedException"/>): the model's endpoint is down,
/// refusing or rate-limiting; <see cref="RpmStoreException"/>: the store cannot be reached. With a <c>Retry-After</c> header (whole seconds): the
/// endpoint's <see cref="RpmEndpointException.RetryAfter"/> when it named one, else <see cref="RpmProblemDetailsOptions.DefaultRetryAfter"/>;
/// the body's <c>retryAfter</c> says the same.</description></item>
/// <item><term>500</term><description><see cref="RpmStoreSchemaException"/> (the store was migrated by a newer host), any other <see cref="RpmStageException"/>
/// (the detail names the stage and item), and every other exception, with a generic title and no detail.</description></item>
/// </list>
/// <para>
/// What never leaves the server: prompts, the model's raw answers, history text, the endpoint's own error text (it can quote
/// a key or a prompt), file paths and connection strings, stack traces. Extensions carry only ids and codes:
/// <c>stage</c>, <c>itemId</c>, <c>userId</c>, <c>endpointStatus</c>, <c>parameter</c>, <c>retryAfter</c>.
/// </para>
/// </remarks>
public static class RpmProblemDetails
{
    /// <summary>Maps an exception to problem details (see the remarks of <see cref="RpmProblemDetails"/> for the table).</summary>
    /// <param name="exception">The exception.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The problem details; <see cref="ProblemDetails.Status"/> is always set.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    public static ProblemDetails Create(Exception exception, RpmProblemDetailsOptions? options = null) => Map(exception, options ?? new RpmProblemDetailsOptions()).Problem;

    /// <summary>Maps an exception; <c>Known</c> is <see langword="false"/> for an exception that is not RPM's (a generic 500).</summary>
    internal static (ProblemDetails Problem, TimeSpan? RetryAfter, bool Known) Map(Exception exception, RpmProblemDetailsOptions options)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var stage = exception as RpmStageException;

        if (Find<RpmEndpointException>(exception) is { } endpoint)
        {
            TimeSpan wait = endpoint.RetryAfter is { } asked && asked > TimeSpan.Zero ? asked : options.DefaultRetryAfter;
            string status = endpoint.StatusCode is { } code ? $"HTTP {code}" : "no response";
            ProblemDetails problem = Problem(
                StatusCodes.Status503ServiceUnavailable,
                endpoint is RpmRateLimitedException ? "The model's endpoint is rate-limiting this service." : "The model's endpoint is unavailable.",
                $"The chat model's endpoint could not answer ({status}). Try again in {Seconds(wait)} s.");
            problem.Extensions["endpointStatus"] = endpoint.StatusCode;
            problem.Extensions["retryAfter"] = Seconds(wait);
            AddStage(problem, stage);
            return (problem, wait, true);
        }

        if (Find<UserModelConcurrencyException>(exception) is { } concurrency)
        {
            ProblemDetails problem = Problem(StatusCodes.Status409Conflict, "The user's model was changed by another writer.", concurrency.Message);
            if (concurrency.UserId.Length > 0)
            {
                problem.Extensions["userId"] = concurrency.UserId;
            }

            return (problem, null, true);
        }

        if (Find<RpmModelOutputException>(exception) is { } output)
        {
            ProblemDetails problem = Problem(
                StatusCodes.Status502BadGateway,
                "The model's answer could not be used.",
                output.ItemId.Length > 0
                    ? $"The model's answer for stage {output.Stage} of item '{output.ItemId}' could not be used ({output.Failure})."
                    : $"The model's answer could not be used ({output.Failure}).");
            AddStage(problem, output);
            return (problem, null, true);
        }

        if (Find<RpmStoreSchemaException>(exception) is { } schema)
        {
            ProblemDetails problem = Problem(
                StatusCodes.Status500InternalServerError,
                "The user model store's schema is not the one this host knows.",
                $"The store's schema is version {schema.FoundVersion}; this host knows up to {schema.SupportedVersion}.");
            return (problem, null, true);
        }

        if (Find<RpmStoreException>(exception) is not null)
        {
            // The message names the file or server; it stays in the server's log.
            ProblemDetails problem = Problem(StatusCodes.Status503ServiceUnavailable, "The user model store is unavailable.", $"Try again in {Seconds(options.DefaultRetryAfter)} s.");
            problem.Extensions["retryAfter"] = Seconds(options.DefaultRetryAfter);
            return (problem, options.DefaultRetryAfter, true);
        }

        if (exception is ArgumentException argument && ThrownByRpm(argument))
        {
            ProblemDetails problem = Problem(StatusCodes.Status400BadRequest, "The request is not valid.", WithoutParameter(argument));
            if (argument.ParamName is { } parameter)
            {
                problem.Extensions["parameter"] = parameter;
            }

            return (problem, null, true);
        }

        if (stage is not null)
        {
            ProblemDetails problem = Problem(
                StatusCodes.Status500InternalServerError,
                "A stage of the personalization failed.",
                stage.ItemId.Length > 0 ? $"Stage {stage.Stage} of item '{stage.ItemId}' failed." : $"Stage {stage.Stage} failed.");
            AddStage(problem, stage);
            return (problem, null, true);
        }

        if (exception is BadHttpRequestException badRequest)
        {
            // ASP.NET Core's own rejection of a request it could not read (a body that is not the JSON the endpoint
            // takes, a missing required value): its status, not a 500. Its message names the parameter, not user text.
            return (Problem(badRequest.StatusCode, "The request could not be read.", badRequest.Message), null, false);
        }

        return (Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred.", null), null, false);
    }

    private static ProblemDetails Problem(int status, string title, string? detail) => new() { Status = status, Title = title, Detail = detail };

    private static void AddStage(ProblemDetails problem, RpmStageException? stage)
    {
        if (stage is null)
        {
            return;
        }

        problem.Extensions["stage"] = stage.Stage.ToString();
        if (stage.ItemId.Length > 0)
        {
            problem.Extensions["itemId"] = stage.ItemId;
        }
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }

            if (e is AggregateException { InnerExceptions.Count: 1 } aggregate && Find<T>(aggregate.InnerExceptions[0]) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    private static int Seconds(TimeSpan wait) => (int)Math.Ceiling(Math.Max(0, wait.TotalSeconds));

    private static string WithoutParameter(ArgumentException exception)
    {
        string message = exception.Message;
        string suffix = $" (Parameter '{exception.ParamName}')";
        return exception.ParamName is not null && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    // RPM's own assemblies: an ArgumentException is the caller's bad input only when one of them threw it (its history
    // validation, a blank id); one from the app's own code is a bug, a 500, even in an app whose namespace is Rpm.
    private static readonly HashSet<string> RpmAssemblies = new(StringComparer.Ordinal)
    {
        "Rpm.Core", "Rpm.Hosting", "Rpm.AspNetCore", "Rpm.OpenAI", "Rpm.OpenAI.Batch", "Rpm.Storage.Sqlite",
        "Rpm.Storage.PostgreSql", "Rpm.Embeddings.MiniLM", "Rpm.AgentFramework", "Rpm.Evaluation",
    };

    // The thrower is the first frame outside the BCL (whose throw helpers, ArgumentException.ThrowIfNullOrWhiteSpace and
    // the like, come first).
    private static bool ThrownByRpm(ArgumentException exception)
    {
        foreach (StackFrame frame in new StackTrace(exception, false).GetFrames())
        {
            Type? type = frame.GetMethod()?.DeclaringType;
            if (type is null)
            {
                // A dynamic method (a serializer's emitted constructor call): look further down.
                continue;
            }

            string assembly = type.Assembly.GetName().Name ?? string.Empty;
            if (assembly == "System.Private.CoreLib" || assembly.StartsWith("System.", StringComparison.Ordinal))
            {
                continue;
            }

            return RpmAssemblies.Contains(assembly);
        }

        return false;
    }
}
