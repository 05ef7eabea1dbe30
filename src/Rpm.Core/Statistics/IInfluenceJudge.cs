namespace Rpm;

/// <summary>
/// Judges, for a generation task, which of a history item's features shaped the text the user wrote (influence) and in
/// which direction (polarity): the model judgments of RPM's stage 3 for open-ended output (arXiv 2505.21082, section
/// 3.3), from which <see cref="IStatisticsBuilder"/> counts each factor's influence and polarity shares. The features come
/// from stage 1, which reads the input alone (as stage 5 does for a query), so history and query keys are alike.
/// </summary>
public interface IInfluenceJudge
{
    /// <summary>Judges the features of one or more history items of a generation task (the caller chooses how many share a call).</summary>
    /// <param name="task">The task; must be <see cref="RpmTaskKind.Generation"/>.</param>
    /// <param name="items">The items with their stage-1 features; each item's <see cref="HistoryItem.Output"/> is the text the user wrote.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>
    /// The same items in order, each feature with <see cref="Feature.Influential"/> and (for influential ones)
    /// <see cref="Feature.Polarity"/> set, or left <see langword="null"/> (unknown, never read as "not influential") when
    /// the model gave no usable judgment; with the call's usage and diagnostics.
    /// </returns>
    /// <exception cref="ArgumentException">The task is not a generation task, or two items share an id.</exception>
    /// <exception cref="RpmModelOutputException">The model refused, or its content filter stopped the call.</exception>
    /// <exception cref="RpmStageException">The model call failed.</exception>
    Task<InfluenceJudgment> JudgeAsync(RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default);
}
