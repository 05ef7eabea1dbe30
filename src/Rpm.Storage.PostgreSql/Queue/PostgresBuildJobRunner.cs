using System.Text.Json;

namespace Rpm;

/// <summary>Runs one claimed build job: completes at once when the stored model already covers the job, else builds and records the outcome.</summary>
internal static class PostgresBuildJobRunner
{
    /// <summary>Builds one claimed job with the pipeline and records the outcome on the job.</summary>
    public static async Task RunAsync(RpmPipeline pipeline, PostgresBuildClaim claim, CancellationToken cancellationToken)
    {
        UserModel? existing;
        try
        {
            existing = await pipeline.GetUserModelAsync(claim.UserId, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            await claim.FailAsync(ex, permanent: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (existing is not null && ModelCoverage.Covers(existing, claim.Task, claim.History))
        {
            QueueLog.JobAlreadyCovered(claim.Queue.Logger, claim.Queue.LogUserId(claim.UserId), existing.Version, claim.Generation);
            await claim.CompleteAsync(existing.Version, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The build goes on only while the claim's connection (its lock) lives: a claim lost with a restarted server
        // stops the build, so that the worker that claims the user next does not pay for the same calls.
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopWatching = new CancellationTokenSource();
        Task watching = claim.WatchAsync(lost, stopWatching.Token);
        UserModel? built = null;
        Exception? error = null;
        try
        {
            // A history that only adds items to the saved model's is an update: two calls per new item, not 2N + 1.
            IReadOnlyList<HistoryItem>? added = existing is null ? null : ModelCoverage.Additions(existing, claim.Task, claim.History);
            built = added is not null
                ? await pipeline.AddHistoryAsync(claim.UserId, added, lost.Token).ConfigureAwait(false)
                : await pipeline.BuildUserModelAsync(claim.UserId, claim.Task, claim.History, lost.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await stopWatching.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
        }

        if (claim.Erased)
        {
            // The user was erased (on any host) while this build ran: the erasure waits for this claim to end and then
            // deletes whatever the build saved; there is no job left to record an outcome on.
            return;
        }

        if (claim.LostReason is not null || PostgresConnectionLoss.Is(error))
        {
            // Not the job's fault: no attempt is counted; the job stays pending and resumes from its checkpoints.
            Exception cause = claim.LostReason ?? error!;
            throw new RpmStoreException(
                $"The build of '{claim.UserId}' (generation {claim.Generation}) stopped: the connection to {claim.Queue.Location} was lost ({PostgresConnectionLoss.Reason(cause)}), and with it the claim. The job stays pending and resumes from its checkpoints when a worker claims it again.",
                cause);
        }

        if (error is RpmStoreException)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        if (error is not null)
        {
            // An invalid history cannot succeed on a retry; anything else (an outage, a conflict) may.
            await claim.FailAsync(error, permanent: error is ArgumentException, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        await claim.CompleteAsync(built!.Version, CancellationToken.None).ConfigureAwait(false);
    }
}
