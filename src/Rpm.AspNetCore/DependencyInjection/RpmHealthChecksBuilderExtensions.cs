using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rpm;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers health checks (Microsoft.Extensions.Diagnostics.HealthChecks) for what an RPM pipeline depends on: the
/// chat endpoint, the embedding generator and the user-model store. Map them with <c>app.MapHealthChecks("/health")</c>.
/// </summary>
/// <remarks>
/// Every check runs under its own timeout and never throws: a failure, a timeout or a cancellation becomes a result
/// whose description says what failed and why, with the exception attached. A rate-limited endpoint (HTTP 429) is
/// <see cref="HealthStatus.Degraded"/>; any other failure is the registration's failure status (default
/// <see cref="HealthStatus.Unhealthy"/>).
/// </remarks>
public static class RpmHealthChecksBuilderExtensions
{
    /// <summary>The default name of the chat endpoint's check.</summary>
    public const string ChatCheckName = "rpm-chat";

    /// <summary>The default name of the embedding generator's check.</summary>
    public const string EmbeddingCheckName = "rpm-embeddings";

    /// <summary>The default name of the store's check.</summary>
    public const string StoreCheckName = "rpm-store";

    /// <summary>
    /// Registers the three checks with their default names (<c>rpm-chat</c>, <c>rpm-embeddings</c>, <c>rpm-store</c>)
    /// and options; call the single ones to set options.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="tags">Tags for the three checks (to filter them in <c>MapHealthChecks</c>), or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IHealthChecksBuilder AddRpmChecks(this IHealthChecksBuilder builder, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddRpmChatCheck(tags: tags).AddRpmEmbeddingCheck(tags: tags).AddRpmStoreCheck(tags: tags);
    }

    /// <summary>
    /// Registers a check of the container's <see cref="IChatClient"/>: one short call (a few tokens, paid), whose result
    /// answers for <see cref="RpmChatHealthCheckOptions.CacheDuration"/> (default 5 minutes), so a health endpoint polled
    /// every few seconds does not pay a model call each time. With <c>.UseRpmHealthObservation()</c> on the chat client,
    /// the outcome of the app's last real call answers instead when it is more recent than the last probe and within the
    /// cache duration, so a busy app pays no probe at all. Healthy when the model answers within the timeout,
    /// degraded when rate-limited, <paramref name="failureStatus"/> otherwise (the endpoint's status and reason in the description).
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status of a failed probe, or <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">The check's tags, or <see langword="null"/>.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static IHealthChecksBuilder AddRpmChatCheck(this IHealthChecksBuilder builder, string name = ChatCheckName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, Action<RpmChatHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new RpmChatHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();

        // Health check services create a check for every run; the cache lives with the registration. The observer is
        // there for UseRpmHealthObservation() on the chat client, which records the app's real calls.
        builder.Services.TryAddSingleton<ChatCallObserver>();
        var cache = new ProbeCache();
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RpmChatHealthCheck(
                sp,
                options,
                cache,
                sp.GetService<TimeProvider>() ?? TimeProvider.System),
            failureStatus,
            tags));
    }

    /// <summary>
    /// Registers a check of the container's <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>: it embeds one
    /// short text under <see cref="RpmEmbeddingHealthCheckOptions.Timeout"/> (default 5 seconds). Healthy when a
    /// non-empty vector comes back, <paramref name="failureStatus"/> otherwise.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status of a failed probe, or <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">The check's tags, or <see langword="null"/>.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static IHealthChecksBuilder AddRpmEmbeddingCheck(this IHealthChecksBuilder builder, string name = EmbeddingCheckName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, Action<RpmEmbeddingHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new RpmEmbeddingHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();

        var cache = new ProbeCache();
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RpmEmbeddingHealthCheck(
                sp,
                options,
                cache,
                sp.GetService<TimeProvider>() ?? TimeProvider.System),
            failureStatus,
            tags));
    }

    /// <summary>
    /// Registers a check of the pipeline's user-model store (the <see cref="IUserModelStore"/> registered with it by <c>AddRpm</c>): one entity-tag read
    /// (under 100 bytes) and the store's schema version (<see cref="IUserModelStore.GetSchemaVersionAsync"/>, reported as
    /// <c>schemaVersion</c> in the result's data; the SQLite and PostgreSQL stores have one, the in-memory store none).
    /// Healthy when the store answers within the timeout (default 5 seconds) with a schema this host can use;
    /// <paramref name="failureStatus"/> when it cannot be reached, its file cannot be used (<see cref="RpmStoreException"/>),
    /// or its schema is newer than this host (<see cref="RpmStoreSchemaException"/>: a newer host migrated it).
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status of a failed probe, or <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">The check's tags, or <see langword="null"/>.</param>
    /// <param name="configure">Sets the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static IHealthChecksBuilder AddRpmStoreCheck(this IHealthChecksBuilder builder, string name = StoreCheckName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null, Action<RpmStoreHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new RpmStoreHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();

        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RpmStoreHealthCheck(sp, options),
            failureStatus,
            tags));
    }
}
