using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm;

/// <summary>
/// Probes the chat endpoint with one short call, at most once per <see cref="RpmChatHealthCheckOptions.CacheDuration"/>:
/// healthy when it answers, degraded when it is rate-limited, the registration's failure status otherwise (down,
/// refusing the key, too slow), with the endpoint's reason.
/// </summary>
internal sealed class RpmChatHealthCheck(IServiceProvider services, RpmChatHealthCheckOptions options, ProbeCache cache, TimeProvider time) : IHealthCheck
{
    private const string What = "The chat endpoint";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        HealthStatus failureStatus = context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy;

        // A real call that reached the endpoint, more recent than the last probe and within the cache duration, answers
        // for free. A real call that failed is not trusted on its own (one failed request would hold the check down for the
        // whole duration): it makes the kept probe stale, and a new probe confirms or clears it.
        DateTimeOffset? staleBefore = null;
        if (options.ChatClientKey is null
            && services.GetService<ChatCallObserver>()?.Last is { } last
            && time.GetUtcNow() - last.At < options.CacheDuration
            && !(cache.ProbedAt > last.At))
        {
            if (last.Failure is null)
            {
                return Task.FromResult(FromObserved(last));
            }

            staleBefore = last.At;
        }

        // The probe's failures are results inside the cache, so a down or rate-limited endpoint is not probed on every check
        // either. The probe has the timeout; the outer run only turns a cancellation while waiting for it into a result
        // (a second timer of the same length would race the probe's and report a timeout as a cancellation).
        return HealthProbe.RunAsync(
            What,
            Timeout.InfiniteTimeSpan,
            failureStatus,
            ct => cache.GetAsync(options.CacheDuration, time, c => HealthProbe.RunAsync(What, options.Timeout, failureStatus, ProbeAsync, c), ct, staleBefore),
            cancellationToken);
    }

    private HealthCheckResult FromObserved(ChatCallObserver.Outcome last)
    {
        double ago = Math.Round((time.GetUtcNow() - last.At).TotalSeconds, 1);
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["observed"] = true,
            ["checkedAt"] = last.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
        return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} answered the app's last call, {ago} s ago."), data);
    }

    private async Task<HealthCheckResult> ProbeAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not by the registration's factory, so that a client that cannot be created is a result, not a throw.
        IChatClient chatClient = options.ChatClientKey is { } key ? services.GetRequiredKeyedService<IChatClient>(key) : services.GetRequiredService<IChatClient>();
        long started = Stopwatch.GetTimestamp();
        ChatResponse response = await chatClient.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Reply with the word OK.")],
            new ChatOptions { MaxOutputTokens = options.MaxOutputTokens, Temperature = 0 },
            cancellationToken).ConfigureAwait(false);
        Dictionary<string, object> data = HealthProbe.Data(started);
        data["checkedAt"] = time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        if (response.ModelId is { } model)
        {
            data["model"] = model;
        }

        return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} answered in {data["durationMs"]} ms."), data);
    }
}
