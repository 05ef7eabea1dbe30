namespace Rpm.Evaluation;

/// <summary>
/// RAG: the K history items most similar to the raw query (BM25 or dense), with the user's answers, in the prompt. The
/// key is the query's <see cref="EvaluationQuery.Content"/> (the item without the task's instruction, as LaMP's
/// retrievers key on it); the prompt shows the whole input. Where every history item shows the same input (LaMP-7), the
/// items are found by their outputs (the user's tweets), as LaMP's retriever does.
/// </summary>
internal sealed class RagMethod : IEvaluationMethod
{
    /// <summary>Initializes a new instance of the <see cref="RagMethod"/> class.</summary>
    /// <param name="retriever">How history items are found.</param>
    /// <param name="chainOfThought">Whether the model reasons step by step before answering.</param>
    public RagMethod(RagRetriever retriever, bool chainOfThought = false)
    {
        Retriever = retriever;
        ChainOfThought = chainOfThought;
    }

    /// <summary>Gets how history items are found.</summary>
    public RagRetriever Retriever { get; }

    /// <summary>Gets a value indicating whether the model reasons before answering.</summary>
    public bool ChainOfThought { get; }

    /// <inheritdoc />
    public string Name => (Retriever == RagRetriever.Bm25 ? "rag-bm25" : "rag-dense") + (ChainOfThought ? "-cot" : string.Empty);

    /// <inheritdoc />
    public string Description =>
        $"The K history items most similar to the query's content by {(Retriever == RagRetriever.Bm25 ? "BM25" : "embedding cosine similarity")}, with the user's answers{(ChainOfThought ? ", reasoning step by step first" : string.Empty)}.";

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    /// <inheritdoc />
    public string CacheScope => Name;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset) => null;

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        IReadOnlyList<HistoryItem> indexed = Searchable(user.History);
        return Retriever == RagRetriever.Bm25
            ? new Bm25Index(indexed.Select(h => h.Input))
            : await DenseHistoryIndex.CreateAsync(indexed, context.RequireEmbeddingGenerator(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What RAG searches: the history items' inputs; but when every item shows the same input (LaMP-7's placeholder
    /// "Write a tweet."), their outputs, the user's own tweets, as LaMP's retriever indexes them
    /// (<c>parphrase_tweet_query_corpus_maker</c>). The items keep their ids, so the prompt still shows the real items.
    /// </summary>
    internal static IReadOnlyList<HistoryItem> Searchable(IReadOnlyList<HistoryItem> history) =>
        history.Count > 1 && history.All(h => string.Equals(h.Input, history[0].Input, StringComparison.Ordinal))
            ? [.. history.Select(h => new HistoryItem(h.Id, h.Output, h.Output, h.Timestamp, h.Options))]
            : history;

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(query);
        IReadOnlyList<ExplainedExample> examples = await RetrieveAsync(context, user, state, query.Content, cancellationToken).ConfigureAwait(false);
        HistoryItem[] items = [.. examples.Select(e => user.History.First(h => h.Id == e.ItemId))];
        return await BaselineChat.AnswerAsync(context, BaselinePrompts.Answer(context, query, ChainOfThought, items, profileSummary: null), ChainOfThought, query, examples, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds the K history items for a query key.</summary>
    internal static async Task<IReadOnlyList<ExplainedExample>> RetrieveAsync(MethodContext context, EvaluationUser user, object? state, string key, CancellationToken cancellationToken) => state switch
    {
        Bm25Index bm25 => [.. bm25.Search(key, context.RetrievalCount).Select(r => Explain(user.History[r.Index], r.Score))],
        DenseHistoryIndex dense => [.. (await dense.SearchAsync(key, context.RetrievalCount, cancellationToken).ConfigureAwait(false)).Select(n => Explain(user.History.First(h => h.Id == n.Item.Id), n.Similarity))],
        _ => throw new InvalidOperationException("RAG was asked to answer for a user it did not prepare."),
    };

    private static ExplainedExample Explain(HistoryItem item, double score) => new(item.Id, item.Input, item.Output, score);
}
