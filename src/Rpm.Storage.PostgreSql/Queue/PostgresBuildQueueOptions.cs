namespace Rpm;

/// <summary>Options of <see cref="PostgresBuildQueue"/>.</summary>
public sealed class PostgresBuildQueueOptions
{
    /// <summary>Gets or sets the name this worker records on the jobs it builds. Default: machine name and process id.</summary>
    public string WorkerName { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>
    /// Gets or sets how long an idle worker waits for a new job notification before looking at the queue again (jobs
    /// that wait for a retry become due without a notification). Default 5 seconds.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how many failed builds make a job <see cref="PostgresBuildJobStatus.Failed"/>. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Gets or sets how long a job waits after a failed build before a worker may claim it again. Default 30 seconds.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets a value indicating whether the queue's log messages carry user ids as given. Default
    /// <see langword="false"/>: they carry <see cref="RpmTelemetry.PseudonymizeUserId"/> of each id, as Rpm.Core's
    /// telemetry does unless <see cref="RpmOptions.EmitRawUserIds"/> is set (set both to see raw ids everywhere).
    /// </summary>
    public bool EmitRawUserIds { get; set; }

    /// <summary>
    /// Gets or sets how long <see cref="PostgresBuildQueue.RunWorkerAsync"/> waits before its first attempt to reconnect
    /// after losing the server (a restart, a failover, a network cut); each failed attempt doubles the wait, with
    /// jitter, up to <see cref="MaxReconnectDelay"/>. Default 1 second.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between two reconnection attempts of a worker. Default 30 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how often a worker checks, while it builds, that the connection holding its claim is still alive. A
    /// claim lost with its connection (the server restarted) stops the build at once, so that no other worker pays for
    /// the same calls; the worker claims the user again when the server is back and resumes from the checkpoints.
    /// Default 1 second.
    /// </summary>
    public TimeSpan ClaimCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the clock of the reconnection delays and claim checks. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(WorkerName))
        {
            errors.Add($"{nameof(WorkerName)} must not be blank.");
        }

        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(PollInterval)} must be between 0 (excluded) and 1 hour (was {PollInterval}).");
        }

        if (MaxAttempts is < 1 or > 1000)
        {
            errors.Add($"{nameof(MaxAttempts)} must be between 1 and 1,000 (was {MaxAttempts}).");
        }

        if (RetryDelay < TimeSpan.Zero || RetryDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{nameof(RetryDelay)} must be between 0 and 1 day (was {RetryDelay}).");
        }

        if (ReconnectDelay <= TimeSpan.Zero || ReconnectDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(ReconnectDelay)} must be between 0 (excluded) and 1 hour (was {ReconnectDelay}).");
        }

        if (MaxReconnectDelay < ReconnectDelay || MaxReconnectDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(MaxReconnectDelay)} must be between {nameof(ReconnectDelay)} and 1 hour (was {MaxReconnectDelay}).");
        }

        if (ClaimCheckInterval <= TimeSpan.Zero || ClaimCheckInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{nameof(ClaimCheckInterval)} must be between 0 (excluded) and 10 minutes (was {ClaimCheckInterval}).");
        }

        if (TimeProvider is null)
        {
            errors.Add($"{nameof(TimeProvider)} must not be null.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid PostgresBuildQueueOptions: " + string.Join(" ", errors));
        }
    }
}
