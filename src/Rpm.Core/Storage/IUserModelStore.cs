namespace Rpm;

/// <summary>Keeps built user models. Saves are atomic and versioned (optimistic concurrency).</summary>
public interface IUserModelStore
{
    /// <summary>Gets the saved model of a user.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The model, or <see langword="null"/> when none is saved.</returns>
    Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the entity tag of a user's saved model: an opaque string that changes whenever the stored model changes
    /// (every save, also a delete followed by a new build that restarts the version), read without the model itself.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The tag, or <see langword="null"/> when no model is saved.</returns>
    /// <remarks>
    /// The pipeline keeps recently used models in memory (<see cref="RpmOptions.UserModelCacheSize"/>) and checks each
    /// against this tag before using it, so a model another process or host saved is never served stale, while a
    /// warm turn reads a few dozen bytes instead of the whole model. Two reads return equal tags exactly when the
    /// stored model is the same.
    /// </remarks>
    Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the schema version of the store's database as it is now, without migrating it: what a health check reports
    /// beside reachability (Rpm.AspNetCore's <c>AddRpmStoreCheck</c>).
    /// </summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>
    /// The version (0 when the database has no RPM schema yet; the first use creates it), or <see langword="null"/>
    /// for a store without a schema (this default, and <see cref="InMemoryUserModelStore"/>).
    /// </returns>
    /// <exception cref="RpmStoreSchemaException">The schema is newer than this library can read (a newer host migrated it): upgrade this host.</exception>
    /// <exception cref="RpmStoreException">The store cannot be reached.</exception>
    Task<int?> GetSchemaVersionAsync(CancellationToken cancellationToken = default) => Task.FromResult<int?>(null);

    /// <summary>Saves a user model atomically: either the whole new model is stored or the previous one stays intact.</summary>
    /// <param name="model">The model to save.</param>
    /// <param name="expectedVersion">
    /// The version the caller read before changing the model: the save fails with
    /// <see cref="UserModelConcurrencyException"/> when the stored version differs. 0 means "no model may be stored yet";
    /// <see langword="null"/> skips the check (last writer wins).
    /// </param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved model, whose <see cref="UserModel.Version"/> is the new stored version.</returns>
    Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Deletes the saved model of a user.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns><see langword="true"/> when a model was deleted.</returns>
    Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Lists the users that have a saved model.</summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The user ids, in ordinal order.</returns>
    Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default);
}
