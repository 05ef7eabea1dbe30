namespace Rpm;

/// <summary>Options of the user-model store's health check (<c>AddRpmStoreCheck</c>).</summary>
public sealed class RpmStoreHealthCheckOptions
{
    /// <summary>Gets or sets how long the probe may take before the store is reported as failing (default 5 seconds).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the service key of the pipeline (<c>AddKeyedRpm</c>) whose store is probed, or <see langword="null"/> for <c>AddRpm</c>'s.</summary>
    public object? PipelineKey { get; set; }

    /// <summary>
    /// Gets or sets how to read the store's schema version, or <see langword="null"/> to check only that the store
    /// answers. For the SQLite store: <c>(services, ct) =&gt; SqliteRpmSchema.GetVersionAsync(path, ct)</c>; for
    /// PostgreSQL: <c>PostgresRpmSchema.GetVersionAsync(dataSource, ct)</c>. The version is reported in the result's data
    /// (<c>schemaVersion</c>).
    /// </summary>
    public Func<IServiceProvider, CancellationToken, Task<int>>? SchemaVersion { get; set; }

    /// <summary>
    /// Gets or sets the schema version this host reads and writes (<c>SqliteRpmSchema.CurrentVersion</c>,
    /// <c>PostgresRpmSchema.CurrentVersion</c>), or <see langword="null"/> to report the version without comparing it.
    /// Another version is unhealthy: a newer one was migrated by a newer host, an older one was not migrated.
    /// </summary>
    public int? ExpectedSchemaVersion { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is not positive, or <see cref="ExpectedSchemaVersion"/> is negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        if (ExpectedSchemaVersion is { } expected)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(expected, nameof(ExpectedSchemaVersion));
        }
    }
}
