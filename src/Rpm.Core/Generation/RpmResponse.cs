namespace Rpm;

/// <summary>A personalized answer and everything that explains it: the rationale, the query's features and the retrieved examples.</summary>
public sealed class RpmResponse
{
    /// <summary>Initializes a new instance of the <see cref="RpmResponse"/> class.</summary>
    /// <param name="answer">The final answer, in the task's canonical form.</param>
    /// <param name="rationale">The personalized rationale that leads to the answer.</param>
    /// <param name="queryFeatures">The query's features, tagged with the user's factors or unassigned.</param>
    /// <param name="examples">The retrieved past reasoning paths, most similar first.</param>
    /// <param name="usage">What the model calls of this response cost.</param>
    internal RpmResponse(string answer, string rationale, IReadOnlyList<Feature> queryFeatures, IReadOnlyList<RetrievedExample> examples, ModelUsage usage)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(rationale);
        ArgumentNullException.ThrowIfNull(queryFeatures);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(usage);
        Answer = answer;
        Rationale = rationale;
        QueryFeatures = queryFeatures;
        Examples = examples;
        Usage = usage;
    }

    /// <summary>Gets the final answer, in the task's canonical form (a label, a rating on the scale's grid, an option, or text).</summary>
    public string Answer { get; }

    /// <summary>Gets the personalized rationale that leads to the answer.</summary>
    public string Rationale { get; }

    /// <summary>Gets the query's features, tagged with the user's factors or unassigned.</summary>
    public IReadOnlyList<Feature> QueryFeatures { get; }

    /// <summary>Gets the retrieved past reasoning paths, most similar first.</summary>
    public IReadOnlyList<RetrievedExample> Examples { get; }

    /// <summary>Gets what the model calls of this response cost.</summary>
    public ModelUsage Usage { get; }

    /// <summary>
    /// Gets a value indicating whether the rationale passed the grounding check (our addition to the paper): every
    /// statistic it cites, and every share in its text, is one shown to the model, and it calls nothing a factor that is
    /// not one of the user's. <see langword="false"/> when it stayed ungrounded after the one repair turn: the answer is
    /// kept, flagged here. A model-free answer (<see cref="IsFallback"/>) is written from the statistics and counts as grounded.
    /// </summary>
    public bool IsGrounded { get; internal init; } = true;

    /// <summary>Gets why the answer was made without the chat model, or <see langword="null"/> when the model answered.</summary>
    /// <remarks>Set only when <see cref="RpmOptions.FallbackToModelFree"/> is on and the model failed.</remarks>
    public string? FallbackReason { get; internal init; }

    /// <summary>Gets a value indicating whether the answer was made without the chat model (see <see cref="FallbackReason"/>).</summary>
    public bool IsFallback => FallbackReason is not null;
}
