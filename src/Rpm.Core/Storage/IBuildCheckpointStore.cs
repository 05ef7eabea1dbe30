namespace Rpm;

/// <summary>
/// Keeps the results of finished model calls of a build in progress, so that a build interrupted by a crash,
/// a cancellation or a model outage resumes without paying for any call that already succeeded.
/// </summary>
/// <remarks>
/// A build is identified by a build key that changes whenever what the calls would produce changes
/// (task, chat model, prompts); entries are keyed by stage and item and hold the stage result as JSON.
/// </remarks>
public interface IBuildCheckpointStore
{
    /// <summary>Loads every entry saved for a build.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="buildKey">The build key.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The entries by entry key; empty when none.</returns>
    Task<IReadOnlyDictionary<string, string>> LoadAsync(string userId, string buildKey, CancellationToken cancellationToken = default);

    /// <summary>Saves one entry of a build, atomically; an existing entry with the same key is replaced.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="buildKey">The build key.</param>
    /// <param name="entryKey">The entry key (stage and item).</param>
    /// <param name="value">The stage result as JSON.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the entry is durable.</returns>
    Task SaveAsync(string userId, string buildKey, string entryKey, string value, CancellationToken cancellationToken = default);

    /// <summary>Deletes every entry of a user's builds, once the built model is saved.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the entries are deleted.</returns>
    Task ClearAsync(string userId, CancellationToken cancellationToken = default);
}
