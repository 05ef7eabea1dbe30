namespace Rpm.Evaluation;

/// <summary>
/// The model-free baseline over raw history: the K history items whose input embedding is most similar to the raw
/// query vote with their similarity (ratings: their weighted mean shrunk toward the user's mean), by
/// <see cref="ModelFreePredictor"/>. Needs no chat model, so it runs everywhere.
/// </summary>
public sealed class HistoryVoteMethod : IEvaluationMethod
{
    /// <inheritdoc />
    public string Name => "history-vote";

    /// <inheritdoc />
    public string Description => "No model: the K most similar history items (embedding cosine) vote with their similarity; ratings take their weighted mean shrunk toward the user's mean.";

    /// <inheritdoc />
    public bool RequiresChatModel => false;

    /// <inheritdoc />
    public string CacheScope => Name;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return !ModelFreePredictor.Supports(dataset.Task) ? "a generation task needs a model to answer."
            : !dataset.HistoryHasTaskAnswers ? $"the history of {dataset.Name} holds no answers of the task to vote with."
            : null;
    }

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        return await DenseHistoryIndex.CreateAsync(user.History, context.RequireEmbeddingGenerator(), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(query);
        DenseHistoryIndex index = state as DenseHistoryIndex ?? throw new InvalidOperationException("The history vote was asked to answer for a user it did not index.");
        IReadOnlyList<HistoryNeighbor> neighbors = await index.SearchAsync(query.Content, context.RetrievalCount, cancellationToken).ConfigureAwait(false);
        var predictor = new ModelFreePredictor(options: new ModelFreePredictorOptions { RetrievalCount = context.RetrievalCount });
        ModelFreePrediction prediction = predictor.Predict(context.Task, user.History, query.ToRpmQuery(), neighbors);
        return new MethodAnswer(prediction.Answer, true)
        {
            Rationale = prediction.Explanation,
            Examples = [.. neighbors.Select(n => new ExplainedExample(n.Item.Id, n.Item.Input, n.Item.Output, Math.Round(n.Similarity, 4)))],
        };
    }
}
