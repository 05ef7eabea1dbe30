namespace Rpm;

/// <summary>What a caller can poll about a background build of one user's model.</summary>
public sealed class RpmBuildJob
{
    /// <summary>Initializes a new instance of the <see cref="RpmBuildJob"/> class.</summary>
    /// <param name="id">The job id (opaque text).</param>
    /// <param name="userId">The user whose model is built.</param>
    /// <param name="state">Where the job is.</param>
    /// <param name="historyCount">The number of history items to build from.</param>
    /// <param name="enqueuedAt">When the job was queued.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> or <paramref name="userId"/> is blank.</exception>
    public RpmBuildJob(string id, string userId, RpmBuildJobState state, int historyCount, DateTimeOffset enqueuedAt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentOutOfRangeException.ThrowIfNegative(historyCount);
        Id = id;
        UserId = userId;
        State = state;
        HistoryCount = historyCount;
        EnqueuedAt = enqueuedAt;
    }

    /// <summary>Gets the job id.</summary>
    public string Id { get; }

    /// <summary>Gets the user whose model is built.</summary>
    public string UserId { get; }

    /// <summary>Gets where the job is.</summary>
    public RpmBuildJobState State { get; }

    /// <summary>Gets the number of history items the job builds from.</summary>
    public int HistoryCount { get; }

    /// <summary>Gets when the job was queued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Gets when a worker last started the job, or <see langword="null"/> while it has not started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Gets when the job succeeded or failed, or <see langword="null"/> while it is pending or running.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Gets the version of the saved model when <see cref="State"/> is <see cref="RpmBuildJobState.Succeeded"/>.</summary>
    public long? ModelVersion { get; init; }

    /// <summary>Gets why the job failed (the exception's type and message) when <see cref="State"/> is <see cref="RpmBuildJobState.Failed"/>.</summary>
    public string? Error { get; init; }

    /// <summary>Gets how many times a worker started the job (more than 1 after a restart resumed it).</summary>
    public int Attempts { get; init; }

    /// <summary>Gets how far the build has come while the job runs in this process, or <see langword="null"/> (see <see cref="RpmBuildProgress"/>).</summary>
    public RpmBuildProgress? Progress { get; init; }
}
