namespace Rpm.Evaluation;

/// <summary>
/// A method that looks at every user of the run once before answering any, as <see cref="HistoryVoteMethod"/> does to
/// choose its parameters by cross-validation over people. The runner calls <see cref="PrepareDatasetAsync"/> first.
/// </summary>
internal interface IDatasetPreparedMethod
{
    /// <summary>Gets how the parameters were chosen in the last <see cref="PrepareDatasetAsync"/>, for the report.</summary>
    CrossValidation? Tuning { get; }

    /// <summary>Prepares the method over every user of the run.</summary>
    /// <param name="context">The task and models (no chat calls are expected).</param>
    /// <param name="dataset">The users the run reports.</param>
    /// <param name="userPrepared">Called once per user prepared (from any thread), for the progress line.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when every user is prepared.</returns>
    Task PrepareDatasetAsync(MethodContext context, EvaluationDataset dataset, Action? userPrepared, CancellationToken cancellationToken);
}
