namespace Rpm;

/// <summary>Options of the chat endpoint's health check (<c>AddRpmChatCheck</c>).</summary>
public sealed class RpmChatHealthCheckOptions
{
    /// <summary>
    /// Gets or sets how long a probe's result answers for the endpoint (default 5 minutes). A probe is one short chat
    /// call (a few tokens in, at most <see cref="MaxOutputTokens"/> out) and is paid for; within this time the health
    /// endpoint reports the last probe's result without calling the model. <see cref="TimeSpan.Zero"/> probes on every check.
    /// </summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long a probe may take before the endpoint is reported as failing (default 10 seconds, retries included).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the most tokens the probe asks the model for (default 4).</summary>
    public int MaxOutputTokens { get; set; } = 4;

    /// <summary>Gets or sets the service key of the <c>IChatClient</c> to probe, or <see langword="null"/> (the default) for the unkeyed one.</summary>
    public object? ChatClientKey { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A duration is negative, the timeout is not positive, or <see cref="MaxOutputTokens"/> is not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CacheDuration, TimeSpan.Zero, nameof(CacheDuration));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxOutputTokens, nameof(MaxOutputTokens));
    }
}
