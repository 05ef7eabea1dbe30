using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rpm;

/// <summary>Answers RPM's exceptions with <see cref="RpmProblemDetails"/>, through the app's <see cref="IProblemDetailsService"/> (so <c>CustomizeProblemDetails</c> applies).</summary>
internal sealed partial class RpmExceptionHandler(IProblemDetailsService problemDetails, IOptions<RpmProblemDetailsOptions> options, ILogger<RpmExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (problem, retryAfter, known) = RpmProblemDetails.Map(exception, options.Value);
        if (!known && !options.Value.HandleOtherExceptions)
        {
            return false;
        }

        int status = problem.Status ?? StatusCodes.Status500InternalServerError;
        string traceId = System.Diagnostics.Activity.Current?.Id ?? httpContext.TraceIdentifier;

        // The response carries no detail of an unexpected failure, so the log must: with its trace id, once. The
        // expected ones (an endpoint down, a bad item) are one line without a stack trace.
        if (!known && status >= StatusCodes.Status500InternalServerError)
        {
            LogUnexpected(logger, httpContext.Request.Method, httpContext.Request.Path, traceId, exception);
        }
        else
        {
            LogMapped(logger, httpContext.Request.Method, httpContext.Request.Path, status, exception.GetType().Name, traceId);
        }

        httpContext.Response.StatusCode = status;
        if (retryAfter is { } wait)
        {
            httpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(Math.Max(0, wait.TotalSeconds))).ToString(CultureInfo.InvariantCulture);
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        }).ConfigureAwait(false);
    }

    [LoggerMessage(6001, LogLevel.Error, "{Method} {Path} failed unexpectedly (trace {TraceId}); answered 500 without details.")]
    private static partial void LogUnexpected(ILogger logger, string method, string path, string traceId, Exception exception);

    [LoggerMessage(6002, LogLevel.Information, "{Method} {Path} answered {Status} for {Exception} (trace {TraceId}).")]
    private static partial void LogMapped(ILogger logger, string method, string path, int status, string exception, string traceId);
}
