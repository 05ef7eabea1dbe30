namespace Rpm;

/// <content>Erasure, listing and export of users' data (access and erasure requests).</content>
public sealed partial class RpmPipeline
{
    private readonly IBuildCheckpointStore _checkpoints;

    /// <summary>
    /// Erases everything this pipeline keeps of a user: the saved model, the checkpoints of builds in progress, and the
    /// user's models and personalizations kept in memory. Waits for a build or update of the user in flight in this
    /// process to end first, so it cannot save the model again afterwards.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns><see langword="true"/> when a saved model was deleted; <see langword="false"/> when the user had none (checkpoints and memory are erased either way).</returns>
    /// <remarks>
    /// The stores decide how the bytes go: the SQLite store deletes with <c>secure_delete</c> and truncates its
    /// write-ahead log, so the erased text is in neither file when the call returns. Background build jobs are kept by
    /// Rpm.Hosting: with it, erase through <c>RpmBuildQueue.EraseUserAsync</c>, which deletes the user's jobs and then
    /// calls this method (the queue owns the jobs). Answer caches the application added around its chat client (for example Rpm.Evaluation's)
    /// are not RPM's pipeline and are not erased here.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is blank.</exception>
    /// <exception cref="RpmStoreException">A store cannot be reached; run the call again (it is idempotent).</exception>
    public Task<bool> EraseUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);

        // Unique work: never joins another call, waits for whatever runs for the user.
        return _gate.RunAsync(userId, "erase:" + Guid.NewGuid().ToString("N"), async () =>
        {
            try
            {
                await _checkpoints.ClearAsync(userId, cancellationToken).ConfigureAwait(false);
                return await _store.DeleteAsync(userId, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _models.Invalidate(userId);
                _turns.Forget(userId);
            }
        }, cancellationToken);
    }

    /// <summary>Lists the users that have a saved model (for an access request, or to erase all).</summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The user ids, in ordinal order.</returns>
    /// <exception cref="RpmStoreException">The store cannot be reached.</exception>
    public Task<IReadOnlyList<string>> ListUsersAsync(CancellationToken cancellationToken = default) => _store.ListUserIdsAsync(cancellationToken);

    /// <summary>
    /// Exports a user's saved model as UTF-8 JSON (the <see cref="RpmJson.UserModel"/> form: history, features, factors,
    /// statistics, reasoning paths and embeddings), for an access or portability request.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The JSON, or <see langword="null"/> when the user has no saved model. <see cref="RpmJson.DeserializeUserModel"/> reads it back.</returns>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is blank.</exception>
    /// <exception cref="RpmStoreException">The store cannot be reached.</exception>
    public async Task<byte[]?> ExportUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        UserModel? model = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        return model is null ? null : RpmJson.SerializeUserModel(model);
    }
}
