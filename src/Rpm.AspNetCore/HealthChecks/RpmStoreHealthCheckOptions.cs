namespace Rpm;

/// <summary>Options of the user-model store's health check (<c>AddRpmStoreCheck</c>).</summary>
public sealed class RpmStoreHealthCheckOptions
{
    /// <summary>Gets or sets how long the probe may take before the store is reported as failing (default 5 seconds).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the service key of the pipeline (<c>AddKeyedRpm</c>) whose store is probed, or <see langword="null"/> for <c>AddRpm</c>'s.</summary>
    public object? PipelineKey { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is not positive.</exception>
    public void Validate() => ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
}
