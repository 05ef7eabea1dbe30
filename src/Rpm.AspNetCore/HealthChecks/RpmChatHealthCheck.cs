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
        return HealthProbe.RunAsync(What, options.Timeout, failureStatus, ct => cache.GetAsync(options.CacheDuration, time, ProbeAsync, ct), cancellationToken);
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
