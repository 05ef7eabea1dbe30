namespace Rpm;

/// <summary>What the queue knows about one user's build job.</summary>
public sealed class PostgresBuildJob
{
    internal PostgresBuildJob(string userId, PostgresBuildJobStatus status, long generation, int attempts, int historyCount, DateTimeOffset enqueuedAt, DateTimeOffset? finishedAt, string? worker, string? lastError, long? modelVersion)
    {
        UserId = userId;
        Status = status;
        Generation = generation;
        Attempts = attempts;
        HistoryCount = historyCount;
        EnqueuedAt = enqueuedAt;
        FinishedAt = finishedAt;
        Worker = worker;
        LastError = lastError;
        ModelVersion = modelVersion;
    }

    /// <summary>Gets the user.</summary>
    public string UserId { get; }

    /// <summary>Gets the state of the job.</summary>
    public PostgresBuildJobStatus Status { get; }

    /// <summary>Gets how many times the user was enqueued (a new enqueue replaces the job and increases it).</summary>
    public long Generation { get; }

    /// <summary>Gets the number of failed builds of this generation.</summary>
    public int Attempts { get; }

    /// <summary>Gets the number of history items of the job.</summary>
    public int HistoryCount { get; }

    /// <summary>Gets when the job was enqueued (database clock).</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Gets when the job finished (done or failed), if it did.</summary>
    public DateTimeOffset? FinishedAt { get; }

    /// <summary>Gets the worker that last built or failed the job.</summary>
    public string? Worker { get; }

    /// <summary>Gets the error of the last failed build, if any.</summary>
    public string? LastError { get; }

    /// <summary>Gets the store version of the model the job saved, once done.</summary>
    public long? ModelVersion { get; }
}
