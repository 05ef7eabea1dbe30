namespace Rpm;

/// <summary>A queued request to build a user's model: the user, the task and the validated history.</summary>
public sealed class RpmBuildRequest
{
    /// <summary>Initializes a new instance of the <see cref="RpmBuildRequest"/> class, validating the history for the task.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history; ids unique, outputs valid for the task, at least one item.</param>
    /// <exception cref="ArgumentException">The user id is blank, the history is empty, or an item is invalid (the item is named).</exception>
    public RpmBuildRequest(string userId, RpmTask task, IEnumerable<HistoryItem> history)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(history);
        IReadOnlyList<HistoryItem> items = task.ValidateHistory(history);
        if (items.Count == 0)
        {
            throw new ArgumentException($"The history of '{userId}' is empty: a user model needs at least one history item.", nameof(history));
        }

        UserId = userId;
        Task = task;
        History = items;
        WorkKey = WorkFingerprint.Of("build", task, items);
    }

    /// <summary>Gets the user.</summary>
    public string UserId { get; }

    /// <summary>Gets the task.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the validated history.</summary>
    public IReadOnlyList<HistoryItem> History { get; }

    /// <summary>Gets a fingerprint of the work (task and every item's content, hex SHA-256): equal requests for one user join one job.</summary>
    public string WorkKey { get; }
}
