using System.Globalization;

namespace Rpm.Evaluation;

/// <summary>RPM through <see cref="RpmPipeline"/>: a user model built once per user (2N + 1 calls), then 2 calls per query.</summary>
public sealed class RpmMethod : IEvaluationMethod
{
    /// <summary>The cache scope of RPM's calls, shared with <see cref="RpmFallbackMethod"/> (both build the same user model).</summary>
    public const string Scope = "rpm";

    /// <inheritdoc />
    public string Name => "rpm";

    /// <inheritdoc />
    public string Description => "RPM: features, factors with statistics and reasoning paths built per user; per query, factor-aware features, feature-based retrieval of K reasoning paths, rationale and answer.";

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    /// <inheritdoc />
    public string CacheScope => Scope;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return dataset.HistoryHasTaskAnswers ? null : $"the history of {dataset.Name} holds no answers of the task, and RPM learns from answered history.";
    }

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken) =>
        await BuildAsync(context, user, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        UserModel model = state as UserModel ?? throw new InvalidOperationException("RPM was asked to answer for a user it did not build.");
        var pipeline = new RpmPipeline(context.RequireChatClient(), context.RequireEmbeddingGenerator(), context.CreateRpmOptions());
        return await RespondAsync(pipeline, model, query, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Answers a query with a pipeline (RPM's own, or one with another stage, as <see cref="RpmAblationMethod"/> builds).</summary>
    internal static async Task<MethodAnswer> RespondAsync(RpmPipeline pipeline, UserModel model, EvaluationQuery query, CancellationToken cancellationToken)
    {
        try
        {
            RpmResponse response = await pipeline.RespondAsync(model, query.ToRpmQuery(), cancellationToken).ConfigureAwait(false);
            return new MethodAnswer(response.Answer, true)
            {
                Rationale = response.Rationale,
                QueryFeatures = [.. response.QueryFeatures.Select(f => f.ToString())],
                Examples = [.. response.Examples.Select(Explain)],
            };
        }
        catch (RpmModelOutputException ex) when (ex.Failure == ModelOutputFailure.InvalidOutput)
        {
            // The model never gave a valid answer: score what it said, as LaMP would. Refusals, filter stops and cut-off
            // answers are failures of the query (reported, and asked again on a re-run), not answers.
            string answer = ex.Stage == RpmStage.Generation ? ValidatedChatClientExtensions.ReadProperty(ex.RawText, "answer")?.Trim() ?? string.Empty : string.Empty;
            return new MethodAnswer(answer, false) { Error = ex.Message };
        }
    }

    /// <summary>Builds a user's model over the context's (counting, caching) chat client.</summary>
    internal static Task<UserModel> BuildAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var pipeline = new RpmPipeline(context.RequireChatClient(), context.RequireEmbeddingGenerator(), context.CreateRpmOptions());
        return pipeline.BuildUserModelAsync(user.Id, context.Task, user.History, cancellationToken);
    }

    internal static ExplainedExample Explain(RetrievedExample example) => new(
        example.Path.Item.Id,
        example.Path.Item.Input,
        example.Path.Item.Output,
        Math.Round(example.Similarity, 4),
        example.Path.Reasoning,
        [.. example.Path.Features.Select(f => f.ToString())]);

    internal static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
