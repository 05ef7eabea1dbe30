namespace Rpm;

/// <summary>What a reasoning-path builder reads: a history item, its features, the user's factor statistics and the known answer.</summary>
public sealed class ReasoningPathRequest
{
    /// <summary>Initializes a new instance of the <see cref="ReasoningPathRequest"/> class.</summary>
    /// <param name="task">The task.</param>
    /// <param name="item">The history item; its output is the known answer the reasoning must lead to.</param>
    /// <param name="features">The item's features, assigned to the user's factors.</param>
    /// <param name="statistics">The user's factor statistics (C_u).</param>
    public ReasoningPathRequest(RpmTask task, HistoryItem item, IReadOnlyList<Feature> features, IReadOnlyList<FactorStatistics> statistics)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(statistics);
        Task = task;
        Item = item;
        Features = features;
        Statistics = statistics;
    }

    /// <summary>Gets the task.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the history item.</summary>
    public HistoryItem Item { get; }

    /// <summary>Gets the item's features.</summary>
    public IReadOnlyList<Feature> Features { get; }

    /// <summary>Gets the user's factor statistics.</summary>
    public IReadOnlyList<FactorStatistics> Statistics { get; }
}
