namespace Rpm;

/// <summary>What a batch build did: the users built, the users that could not be, and the waves and batches it took.</summary>
public sealed class BatchBuildResult
{
    /// <summary>Gets the users whose models are saved (in this build job, including earlier runs).</summary>
    public required IReadOnlyList<string> BuiltUserIds { get; init; }

    /// <summary>
    /// Gets the users that could not be built, with why: an <see cref="OpenAIBatchException"/> when a request they need went
    /// unanswered in <see cref="OpenAIBatchOptions.MaxSubmissions"/> batches, or the build's own error (e.g. an
    /// <see cref="RpmModelOutputException"/> after every repair). A failed user stays failed for this state file: a second
    /// run replays the same stored answers and counts the same submissions. To try again, raise
    /// <see cref="OpenAIBatchOptions.MaxSubmissions"/> (unanswered requests), or build the user synchronously with
    /// <see cref="RpmPipeline.BuildUserModelAsync"/> (an answer the model gave invalidly is replayed from the state file).
    /// </summary>
    public required IReadOnlyDictionary<string, Exception> Failures { get; init; }

    /// <summary>Gets how many waves this run submitted.</summary>
    public required int Waves { get; init; }

    /// <summary>Gets the batches this run submitted or finished polling.</summary>
    public required IReadOnlyList<string> BatchIds { get; init; }

    /// <summary>
    /// Gets the batches this run cancelled because they had not ended within <see cref="OpenAIBatchOptions.MaxBatchWait"/>;
    /// the answers they returned were kept, their other requests went again.
    /// </summary>
    public IReadOnlyList<string> TimedOutBatchIds { get; init; } = [];

    /// <summary>Gets how many requests this run submitted (each a line of a batch input file).</summary>
    public required int RequestsSubmitted { get; init; }

    /// <summary>Gets a value indicating whether every user was built.</summary>
    public bool Succeeded => Failures.Count == 0;
}
