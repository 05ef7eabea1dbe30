namespace Rpm;

/// <summary>Computes the statistics of a user's factors over the user's history (stage 3 of RPM).</summary>
public interface IStatisticsBuilder
{
    /// <summary>Computes the statistics of each factor over the user's history.</summary>
    /// <param name="task">The task.</param>
    /// <param name="factors">The user's factors.</param>
    /// <param name="items">Every history item with features assigned to <paramref name="factors"/>; outputs in canonical form.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One statistics entry per factor, in the order of <paramref name="factors"/>.</returns>
    Task<IReadOnlyList<FactorStatistics>> ComputeStatisticsAsync(RpmTask task, IReadOnlyList<Factor> factors, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default);
}
