namespace Rpm.Evaluation;

/// <summary>
/// The floor every personalized method should beat, with no model and no retrieval: the user's most frequent answer
/// (ratings: the user's mean rating on the scale's grid), by <see cref="ModelFreePredictor"/> with no neighbors. It has
/// no parameters, so nothing in it is chosen on the reported users; it is the reference the cross-validated
/// <see cref="HistoryVoteMethod"/> is compared with, fold by fold.
/// </summary>
internal sealed class UserPriorMethod : IEvaluationMethod
{
    /// <inheritdoc />
    public string Name => "user-prior";

    /// <inheritdoc />
    public string Description => "No model, no retrieval, no parameters: the user's most frequent answer, or for ratings the user's mean rating (on the scale's grid).";

    /// <inheritdoc />
    public bool RequiresChatModel => false;

    /// <inheritdoc />
    public string CacheScope => Name;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return !ModelFreePredictor.Supports(dataset.Task) ? "a generation task needs a model to answer."
            : !dataset.HistoryHasTaskAnswers ? $"the history of {dataset.Name} holds no answers of the task."
            : null;
    }

    /// <inheritdoc />
    public Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken) => Task.FromResult<object?>(null);

    /// <inheritdoc />
    public Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(query);
        ModelFreePrediction prediction = new ModelFreePredictor().Predict(context.Task, user.History, query.ToRpmQuery(), []);
        return Task.FromResult(new MethodAnswer(prediction.Answer, true) { Rationale = prediction.Explanation });
    }
}
