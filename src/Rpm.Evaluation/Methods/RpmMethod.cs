using System.Globalization;

namespace Rpm.Evaluation;

/// <summary>RPM through <see cref="RpmPipeline"/>: a user model built once per user (2N + 1 calls), then 2 calls per query.</summary>
internal sealed class RpmMethod : IEvaluationMethod
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
        return !dataset.HistoryHasTaskAnswers ? $"the history of {dataset.Name} holds no answers of the task, and RPM learns from answered history."
            : UninformativeHistoryReason(dataset);
    }

    /// <summary>
    /// Says why RPM cannot learn from a data set whose history items all show the same input (LaMP-7's profiles hold only
    /// the user's tweets, so every item's input is the placeholder "Write a tweet."): the features of every past input
    /// would be alike and feature-based retrieval could not tell the reasoning paths apart. Shared by every form of RPM.
    /// </summary>
    /// <returns><see langword="null"/> when at least two history inputs differ (or there is at most one item).</returns>
    internal static string? UninformativeHistoryReason(EvaluationDataset dataset)
    {
        string? first = null;
        int items = 0;
        foreach (HistoryItem item in dataset.Users.SelectMany(u => u.History))
        {
            items++;
            if (first is null)
            {
                first = item.Input;
            }
            else if (!string.Equals(first, item.Input, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return items < 2 ? null
            : $"every history item of {dataset.Name} has the same input (\"{first}\"; LaMP-7's profiles hold only the user's tweets, not what they answer), so RPM's features of past inputs would all be alike and its feature-based retrieval could not tell them apart.";
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
                IsGrounded = response.IsFallback ? null : response.IsGrounded,
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
