namespace Rpm;

/// <summary>Groups a user's features into factors and computes the factor statistics (stages 2 and 3 of RPM).</summary>
public interface IStatisticsBuilder
{
    /// <summary>Clusters all of a user's features into a small set of user-level factors and assigns each feature to one.</summary>
    /// <param name="userId">The user, reported in errors.</param>
    /// <param name="task">The task.</param>
    /// <param name="items">Every history item with its extracted features.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The factors and the items with assigned features.</returns>
    Task<FactorConstruction> ConstructFactorsAsync(string userId, RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default);

    /// <summary>Computes the statistics of each factor over the user's history.</summary>
    /// <param name="task">The task.</param>
    /// <param name="factors">The user's factors.</param>
    /// <param name="items">Every history item with features assigned to <paramref name="factors"/>; outputs in canonical form.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>One statistics entry per factor, in the order of <paramref name="factors"/>.</returns>
    Task<IReadOnlyList<FactorStatistics>> ComputeStatisticsAsync(RpmTask task, IReadOnlyList<Factor> factors, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default);
}
