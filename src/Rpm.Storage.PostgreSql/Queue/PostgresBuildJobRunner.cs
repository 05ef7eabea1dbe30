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

        if (existing is not null && Covers(existing, claim))
        {
            QueueLog.JobAlreadyCovered(claim.Queue.Logger, claim.Queue.LogUserId(claim.UserId), existing.Version, claim.Generation);
            await claim.CompleteAsync(existing.Version, cancellationToken).ConfigureAwait(false);
            return;
        }

        UserModel built;
        try
        {
            built = await pipeline.BuildUserModelAsync(claim.UserId, claim.Task, claim.History, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not RpmStoreException)
        {
            // An invalid history cannot succeed on a retry; anything else (an outage, a conflict) may.
            await claim.FailAsync(ex, permanent: ex is ArgumentException, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        await claim.CompleteAsync(built.Version, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a stored model was built for exactly this job's task and history, so that building again would change
    /// nothing: its paths are the job's items in order, but for the items the model left out (refused or filtered),
    /// which its diagnostics count.
    /// </summary>
    private static bool Covers(UserModel model, PostgresBuildClaim claim)
    {
        if (JsonSerializer.Serialize(model.Task, RpmJson.RpmTask) != JsonSerializer.Serialize(claim.Task, RpmJson.RpmTask))
        {
            return false;
        }

        int matched = 0;
        foreach (HistoryItem wanted in claim.History)
        {
            if (matched < model.Paths.Count && Same(model.Paths[matched].Item, wanted))
            {
                matched++;
            }
        }

        return matched == model.Paths.Count && claim.History.Count - matched == model.Diagnostics.ItemsExcluded;
    }

    private static bool Same(HistoryItem stored, HistoryItem wanted) =>
        stored.Id == wanted.Id && stored.Input == wanted.Input && stored.Output == wanted.Output && stored.Timestamp == wanted.Timestamp
        && (stored.Options ?? []).SequenceEqual(wanted.Options ?? []);
}
