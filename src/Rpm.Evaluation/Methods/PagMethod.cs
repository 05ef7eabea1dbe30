namespace Rpm.Evaluation;

/// <summary>
/// PAG: one model-written summary of the user's profile per user, placed in every prompt. The summary call reads the
/// history most recent first (by <see cref="HistoryItem.Timestamp"/>, LaMP's "date", when every item has one; else the
/// last item of the file first) until <see cref="MaxHistoryTokens"/> is reached.
/// </summary>
internal sealed class PagMethod : IEvaluationMethod
{
    /// <summary>Initializes a new instance of the <see cref="PagMethod"/> class.</summary>
    /// <param name="chainOfThought">Whether the model reasons step by step before answering.</param>
    /// <param name="maxHistoryTokens">
    /// The most history tokens the summary call reads, the most recent items first: by their timestamps (LaMP's "date")
    /// when every item has one, else in reverse file order. Default 6,000.
    /// </param>
    public PagMethod(bool chainOfThought = false, int maxHistoryTokens = 6000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHistoryTokens, 100);
        ChainOfThought = chainOfThought;
        MaxHistoryTokens = maxHistoryTokens;
    }

    /// <summary>Gets a value indicating whether the model reasons before answering.</summary>
    public bool ChainOfThought { get; }

    /// <summary>Gets the most history tokens the summary call reads.</summary>
    public int MaxHistoryTokens { get; }

    /// <inheritdoc />
    public string Name => ChainOfThought ? "pag-cot" : "pag";

    /// <inheritdoc />
    public string Description => "A profile summary the model writes once per user from the history (most recent first: by date when every item has one, else the last in the file first; up to the token budget), in every prompt" + (ChainOfThought ? ", reasoning step by step first." : ".");

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    // The summary prompt is the same with and without CoT: both variants share the cached summaries.
    /// <inheritdoc />
    public string CacheScope => "pag";

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset) => null;

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        return await BaselineChat.SummaryAsync(context, BaselinePrompts.Summary(context, user.History, MaxHistoryTokens), user.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        string summary = state as string ?? throw new InvalidOperationException("PAG was asked to answer for a user it did not summarize.");
        return BaselineChat.AnswerAsync(context, BaselinePrompts.Answer(context, query, ChainOfThought, examples: null, summary), ChainOfThought, query, [], cancellationToken);
    }
}
