namespace Rpm;

/// <summary>Options of the embedding generator's health check (<c>AddRpmEmbeddingCheck</c>).</summary>
public sealed class RpmEmbeddingHealthCheckOptions
{
    /// <summary>
    /// Gets or sets how long a probe's result answers for the generator (default <see cref="TimeSpan.Zero"/>: every check
    /// embeds, which costs a few milliseconds with the local MiniLM model). Set it for a paid remote generator.
    /// </summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets how long the probe may take before the generator is reported as failing (default 5 seconds).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the service key of the <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> to probe, or <see langword="null"/> for the unkeyed one.</summary>
    public object? EmbeddingGeneratorKey { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The cache duration is negative or the timeout is not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CacheDuration, TimeSpan.Zero, nameof(CacheDuration));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
    }
}
