using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm;

/// <summary>Runs one probe under a timeout and turns whatever it throws into a result: a health check never throws.</summary>
internal static class HealthProbe
{
    public static async Task<HealthCheckResult> RunAsync(
        string what,
        TimeSpan timeout,
        HealthStatus failureStatus,
        Func<CancellationToken, Task<HealthCheckResult>> probe,
        CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            timeoutSource.CancelAfter(timeout);
        }

        try
        {
            return await probe(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The timeout, whatever the probed component threw when it was cancelled (ONNX Runtime, for one, throws its
            // own "terminate flag" error rather than OperationCanceledException).
            return new HealthCheckResult(failureStatus, FormattableString.Invariant($"{what} did not answer within {timeout.TotalSeconds:0.###} s."), ex, Data(started));
        }
        catch (OperationCanceledException ex)
        {
            return new HealthCheckResult(failureStatus, $"The health check of {what} was cancelled.", ex, Data(started));
        }
        catch (Exception ex)
        {
            return Failed(what, failureStatus, ex, Data(started));
        }
    }

    internal static HealthCheckResult Failed(string what, HealthStatus failureStatus, Exception ex, Dictionary<string, object> data)
    {
        // A stage wraps the endpoint's exception; the endpoint's is the one that says what happened.
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is RpmRateLimitedException limited)
            {
                // The endpoint is there and answering, only busy: degraded, not down.
                return new HealthCheckResult(HealthStatus.Degraded, $"{what} is rate-limited (HTTP 429){RetryAfter(limited.RetryAfter)}: {limited.Message}", ex, data);
            }

            if (e is RpmEndpointException endpoint)
            {
                data["endpointStatus"] = endpoint.StatusCode is { } code ? code : "no response";
                string status = endpoint.StatusCode is { } c ? $"HTTP {c}" : "no response";
                return new HealthCheckResult(failureStatus, $"{what} failed ({status}): {endpoint.Message}", ex, data);
            }
        }

        return new HealthCheckResult(failureStatus, $"{what} failed: {ex.GetType().Name}: {ex.Message}", ex, data);
    }

    public static Dictionary<string, object> Data(long started) => new(StringComparer.Ordinal)
    {
        ["durationMs"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1),
    };

    private static string RetryAfter(TimeSpan? retryAfter) => retryAfter is { } wait ? FormattableString.Invariant($", retry after {wait.TotalSeconds:0.#} s") : string.Empty;
}
