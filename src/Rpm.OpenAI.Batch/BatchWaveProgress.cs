namespace Rpm;

/// <summary>
/// Where a batch build stands after a wave: what its batches answered and what the next wave sends; or, when
/// <see cref="Polled"/> is set, a batch still running at a poll (at most once per <see cref="OpenAIBatchOptions.PollInterval"/> per batch).
/// </summary>
public sealed class BatchWaveProgress
{
    /// <summary>Gets the wave just submitted (waves are numbered across restarts), or the last one when <see cref="RequestsSubmitted"/> is 0.</summary>
    public required int Wave { get; init; }

    /// <summary>Gets how many users have a saved model (in this build job, including earlier runs).</summary>
    public required int UsersBuilt { get; init; }

    /// <summary>Gets how many users wait for answers of the wave just submitted.</summary>
    public required int UsersWaiting { get; init; }

    /// <summary>Gets how many users failed (their errors are in <see cref="BatchBuildResult.Failures"/>).</summary>
    public required int UsersFailed { get; init; }

    /// <summary>Gets how many requests the batches read back since the last report answered.</summary>
    public required int RequestsAnswered { get; init; }

    /// <summary>Gets how many requests those batches left without an answer (sent again, up to <see cref="OpenAIBatchOptions.MaxSubmissions"/>).</summary>
    public required int RequestsUnanswered { get; init; }

    /// <summary>Gets how many requests the wave just submitted holds (0 when the build is done).</summary>
    public required int RequestsSubmitted { get; init; }

    /// <summary>Gets the ids of the batches the wave just submitted (on a poll's report, the batch polled).</summary>
    public required IReadOnlyList<string> BatchIds { get; init; }

    /// <summary>
    /// Gets the batch a poll found still running, with its status, request counts and age; <see langword="null"/> on the
    /// report after a wave. On a poll's report the user counts are those of the last wave and the request counts are 0.
    /// </summary>
    public BatchPollStatus? Polled { get; init; }
}
