using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Rpm;

/// <summary>Answers RPM's exceptions with <see cref="RpmProblemDetails"/>, through the app's <see cref="IProblemDetailsService"/> (so <c>CustomizeProblemDetails</c> applies).</summary>
internal sealed class RpmExceptionHandler(IProblemDetailsService problemDetails, IOptions<RpmProblemDetailsOptions> options) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (problem, retryAfter, known) = RpmProblemDetails.Map(exception, options.Value);
        if (!known && !options.Value.HandleOtherExceptions)
        {
            return false;
        }

        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
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
}
