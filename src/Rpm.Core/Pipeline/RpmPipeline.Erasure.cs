namespace Rpm;

/// <content>Erasure, listing and export of users' data (access and erasure requests).</content>
public sealed partial class RpmPipeline
{
    private readonly IBuildCheckpointStore _checkpoints;

    /// <summary>
    /// Erases everything this pipeline keeps of a user: the saved model, the checkpoints of builds in progress, and the
    /// user's models and personalizations kept in memory. A build or update of the user in flight in this process is
    /// cancelled first (it saves nothing) and waited for, so it cannot save the model again afterwards. The erasure goes on
    /// to the end even when <paramref name="cancellationToken"/> is cancelled: the token only stops the caller's wait.
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

        // A build or update of the user in flight is cancelled first: the model it would save is about to be erased, so
        // none of its calls is worth paying, and an erasure never waits out a slow endpoint's retries.
        _gate.Abort(userId);

        // Unique work: never joins another call, waits for whatever still runs for the user. It goes on even if its
        // caller stops waiting: an erasure abandoned halfway would leave the text behind.
        Task<bool> erasure = _gate.RunAsync(userId, "erase:" + Guid.NewGuid().ToString("N"), async _ =>
        {
            try
            {
                await _checkpoints.ClearAsync(userId, CancellationToken.None).ConfigureAwait(false);
                return await _store.DeleteAsync(userId, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _models.Invalidate(userId);
                _turns.Forget(userId);
            }
        }, CancellationToken.None);
        return erasure.WaitAsync(cancellationToken);
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
