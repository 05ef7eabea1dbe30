namespace Rpm;

/// <summary>Groups all of a user's features into a small set of user-level factors (stage 2 of RPM), by asking the model.</summary>
public interface IFactorConstructor
{
    /// <summary>Forms the user's factors and assigns each feature to one of them (or leaves it unassigned).</summary>
    /// <param name="userId">The user, reported in errors.</param>
    /// <param name="task">The task.</param>
    /// <param name="items">Every history item with its extracted features (stage 1).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The factors, the items with each feature's factor set, and what the model calls cost.</returns>
    /// <exception cref="ArgumentException">The items hold no feature at all.</exception>
    /// <exception cref="RpmStageException">A model call failed (the transport's retries exhausted).</exception>
    Task<FactorConstruction> ConstructFactorsAsync(string userId, RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken = default);
}
