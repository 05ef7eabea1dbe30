namespace Rpm.Evaluation;

/// <summary>
/// RPM's model-free fallback: the user model is built with the chat model (the same calls as <see cref="RpmMethod"/>,
/// cached once for both), but every query is answered without one, by <see cref="ModelFreePredictor"/> from the
/// factor statistics and the labels of the reasoning paths most similar to the raw query. What RPM can answer when the
/// model is unreachable at query time.
/// </summary>
internal sealed class RpmFallbackMethod : IEvaluationMethod
{
    /// <inheritdoc />
    public string Name => "rpm-fallback";

    /// <inheritdoc />
    public string Description => "RPM's user model (built with the model), queries answered without the model: factor statistics blended with the labels of the K most similar reasoning paths.";

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    /// <inheritdoc />
    public string CacheScope => RpmMethod.Scope;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return !ModelFreePredictor.Supports(dataset.Task) ? "a generation task needs a model to answer."
            : !dataset.HistoryHasTaskAnswers ? $"the history of {dataset.Name} holds no answers of the task."
            : RpmMethod.UninformativeHistoryReason(dataset);
    }

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken) =>
        await RpmMethod.BuildAsync(context, user, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        UserModel model = state as UserModel ?? throw new InvalidOperationException("The RPM fallback was asked to answer for a user it did not build.");
        var predictor = new ModelFreePredictor(new FeatureRetriever(context.RequireEmbeddingGenerator(), context.CreateRpmOptions()), new ModelFreePredictorOptions { RetrievalCount = context.RetrievalCount });
        ModelFreePrediction prediction = await predictor.PredictAsync(model, query.ToRpmQuery(), queryFeatures: null, cancellationToken).ConfigureAwait(false);
        return new MethodAnswer(prediction.Answer, true)
        {
            Rationale = prediction.Explanation,
            Examples = [.. prediction.Neighbors.Select(n => new ExplainedExample(
                n.Item.Id, n.Item.Input, n.Item.Output, Math.Round(n.Similarity, 4),
                model.Paths.FirstOrDefault(p => p.Item.Id == n.Item.Id)?.Reasoning,
                n.Features?.Select(f => f.ToString()).ToList()))],
        };
    }
}
