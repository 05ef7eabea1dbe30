namespace Rpm;

/// <summary>One user to build in a batch build: the user, the task and the history, as <see cref="RpmPipeline.BuildUserModelAsync"/> takes them.</summary>
public sealed class BatchUser
{
    /// <summary>Initializes a new instance of the <see cref="BatchUser"/> class.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history.</param>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is blank.</exception>
    public BatchUser(string userId, RpmTask task, IEnumerable<HistoryItem> history)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(history);
        UserId = userId;
        Task = task;
        History = [.. history];
    }

    /// <summary>Gets the user.</summary>
    public string UserId { get; }

    /// <summary>Gets the task the history belongs to.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the history.</summary>
    public IReadOnlyList<HistoryItem> History { get; }
}
