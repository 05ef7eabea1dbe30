using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rpm;

/// <summary>
/// Asks the pipeline's user-model store for one entity tag (a read of under 100 bytes, of a user that does not exist)
/// and, when configured, reads its schema version: healthy when both answer and the version is the expected one.
/// </summary>
internal sealed class RpmStoreHealthCheck(IServiceProvider services, RpmStoreHealthCheckOptions options) : IHealthCheck
{
    private const string What = "The user model store";

    // Reading a user's tag is harmless even if a user has this id; PostgreSQL text cannot hold a NUL, so no sentinel byte.
    private const string ProbeUserId = "rpm:health-probe";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        HealthStatus failureStatus = context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        return HealthProbe.RunAsync(What, options.Timeout, failureStatus, ct => ProbeAsync(failureStatus, ct), cancellationToken);
    }

    private async Task<HealthCheckResult> ProbeAsync(HealthStatus failureStatus, CancellationToken cancellationToken)
    {
        // The store the pipeline was registered with (AddRpm registers it beside the pipeline, under the same key).
        IUserModelStore store = options.PipelineKey is { } key ? services.GetRequiredKeyedService<IUserModelStore>(key) : services.GetRequiredService<IUserModelStore>();
        long started = Stopwatch.GetTimestamp();
        _ = await store.GetETagAsync(ProbeUserId, cancellationToken).ConfigureAwait(false);
        Dictionary<string, object> data = HealthProbe.Data(started);
        data["store"] = store.GetType().Name;
        if (options.SchemaVersion is null)
        {
            return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} ({store.GetType().Name}) answered in {data["durationMs"]} ms."), data);
        }

        int version = await options.SchemaVersion(services, cancellationToken).ConfigureAwait(false);
        data["schemaVersion"] = version;
        if (options.ExpectedSchemaVersion is { } expected && version != expected)
        {
            string why = version > expected
                ? "a newer version of the library migrated it; upgrade this host"
                : "it was not migrated to this host's version";
            return new HealthCheckResult(failureStatus, $"{What} ({store.GetType().Name}) has schema version {version}, this host expects {expected}: {why}.", data: data);
        }

        return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} ({store.GetType().Name}) answered in {data["durationMs"]} ms, schema version {version}."), data);
    }
}
