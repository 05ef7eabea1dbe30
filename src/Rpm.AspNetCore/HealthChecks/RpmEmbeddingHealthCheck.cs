using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm;

/// <summary>Embeds one short text under a timeout: healthy when a non-empty vector comes back, the registration's failure status otherwise.</summary>
internal sealed class RpmEmbeddingHealthCheck(IServiceProvider services, RpmEmbeddingHealthCheckOptions options, ProbeCache cache, TimeProvider time) : IHealthCheck
{
    private const string What = "The embedding generator";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        HealthStatus failureStatus = context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        return HealthProbe.RunAsync(
            What,
            Timeout.InfiniteTimeSpan,
            failureStatus,
            ct => cache.GetAsync(options.CacheDuration, time, c => HealthProbe.RunAsync(What, options.Timeout, failureStatus, p => ProbeAsync(failureStatus, p), c), ct),
            cancellationToken);
    }

    private async Task<HealthCheckResult> ProbeAsync(HealthStatus failureStatus, CancellationToken cancellationToken)
    {
        IEmbeddingGenerator<string, Embedding<float>> generator = options.EmbeddingGeneratorKey is { } key
            ? services.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(key)
            : services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        long started = Stopwatch.GetTimestamp();
        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(["health check"], cancellationToken: cancellationToken).ConfigureAwait(false);
        Dictionary<string, object> data = HealthProbe.Data(started);
        if (embeddings.Count != 1 || embeddings[0].Vector.Length == 0)
        {
            return new HealthCheckResult(failureStatus, $"{What} returned {embeddings.Count} embedding(s) for one text{(embeddings.Count == 1 ? ", with no dimensions" : string.Empty)}.", data: data);
        }

        data["dimensions"] = embeddings[0].Vector.Length;
        return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} embedded a text ({embeddings[0].Vector.Length} dimensions) in {data["durationMs"]} ms."), data);
    }
}
