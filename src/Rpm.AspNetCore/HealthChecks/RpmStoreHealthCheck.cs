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
        // A store with a schema says its version without migrating; one newer than this host throws RpmStoreSchemaException,
        // which the probe reports with its message (upgrade this host). An older one is migrated on first use.
        if (await store.GetSchemaVersionAsync(cancellationToken).ConfigureAwait(false) is not { } version)
        {
            return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} ({store.GetType().Name}) answered in {data["durationMs"]} ms."), data);
        }

        data["schemaVersion"] = version;
        return HealthCheckResult.Healthy(FormattableString.Invariant($"{What} ({store.GetType().Name}) answered in {data["durationMs"]} ms, schema version {version}."), data);
    }
}
