namespace Rpm.Evaluation;

/// <summary>
/// A way to predict a user's answers, compared with the others by the <see cref="EvaluationRunner"/>: zero-shot, RAG,
/// PAG, RPM, the model-free predictors, or your own. Implement this one interface to add a method: the runner calls
/// <see cref="PrepareUserAsync"/> once per user (the "build" cost), then <see cref="AnswerAsync"/> per query (the
/// "query" cost), each with a context whose chat client counts and caches every call.
/// </summary>
public interface IEvaluationMethod
{
    /// <summary>Gets the method's name in reports and on the command line (e.g. <c>rag-bm25</c>).</summary>
    string Name { get; }

    /// <summary>Gets one sentence that says what the method does.</summary>
    string Description { get; }

    /// <summary>Gets a value indicating whether the method needs a chat model (it is skipped when none is reachable).</summary>
    bool RequiresChatModel { get; }

    /// <summary>
    /// Gets the name under which the method's model answers are cached. Methods that send the same prompts (RPM and
    /// its model-free fallback build the same user model) share a scope, so a run pays for those calls once.
    /// </summary>
    string CacheScope { get; }

    /// <summary>Says whether the method can run on a data set.</summary>
    /// <param name="dataset">The data set.</param>
    /// <returns><see langword="null"/> when it can; otherwise why not, for the report.</returns>
    string? CheckApplicable(EvaluationDataset dataset);

    /// <summary>Prepares whatever the method needs for one user (an index, a summary, a user model).</summary>
    /// <param name="context">The task, the models and the settings; its chat client counts this user's build cost.</param>
    /// <param name="user">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The method's state for the user, passed back to <see cref="AnswerAsync"/>; may be <see langword="null"/>.</returns>
    Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken);

    /// <summary>Predicts the user's answer to one query.</summary>
    /// <param name="context">The task, the models and the settings; its chat client counts this query's cost.</param>
    /// <param name="user">The user.</param>
    /// <param name="state">What <see cref="PrepareUserAsync"/> returned for the user.</param>
    /// <param name="query">The query (its gold must not be used).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The answer and what explains it.</returns>
    Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken);
}
