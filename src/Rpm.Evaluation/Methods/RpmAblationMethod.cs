namespace Rpm.Evaluation;

/// <summary>
/// An arm of RPM's ablation (<see cref="RpmAblation"/>; arXiv 2505.21082, Tables 2 and 3) as an evaluation method. Every
/// arm prepares a user exactly as <see cref="RpmMethod"/> does (the same build, in RPM's cache scope, so a run that
/// also has <c>rpm</c> pays for it once) and differs only at query time. Per query, every arm makes stage 5's call
/// (the query's features tagged with the user's factors; the same prompt as RPM's, so it too is answered once from the
/// cache when several arms run) and one answer call: 2 calls per query.
/// </summary>
internal sealed class RpmAblationMethod : IEvaluationMethod
{
    /// <summary>Initializes a new instance of the <see cref="RpmAblationMethod"/> class.</summary>
    /// <param name="arm">The arm.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="arm"/> is not an <see cref="RpmAblation"/>.</exception>
    public RpmAblationMethod(RpmAblation arm)
    {
        if (!Enum.IsDefined(arm))
        {
            throw new ArgumentOutOfRangeException(nameof(arm), arm, $"Not an {nameof(RpmAblation)}.");
        }

        Arm = arm;
    }

    /// <summary>Gets the arm.</summary>
    public RpmAblation Arm { get; }

    /// <inheritdoc />
    public string Name => Arm switch
    {
        RpmAblation.NoExamples => "rpm-no-examples",
        RpmAblation.Pairs => "rpm-pairs",
        RpmAblation.PairsCot => "rpm-pairs-cot",
        _ => "rpm-query-key",
    };

    /// <inheritdoc />
    public string Description => Arm switch
    {
        RpmAblation.NoExamples => "RPM ablation: the query, its factor-aware features and the user's factor statistics; no examples, no reasoning paths.",
        RpmAblation.Pairs => "RPM ablation: as rpm-no-examples, plus the K (input, answer) pairs retrieved by feature text, without their reasoning paths.",
        RpmAblation.PairsCot => "RPM ablation: as rpm-pairs, with generic chain-of-thought (the model reasons step by step itself, not from the user's reasoning paths).",
        _ => "RPM ablation: full RPM, but the K reasoning paths are retrieved by the raw query's similarity to past inputs, not by feature text.",
    };

    /// <inheritdoc />
    public bool RequiresChatModel => true;

    /// <inheritdoc />
    public string CacheScope => RpmMethod.Scope;

    /// <summary>Gets a value indicating whether the arm reasons step by step before answering.</summary>
    internal bool ChainOfThought => Arm == RpmAblation.PairsCot;

    /// <inheritdoc />
    public string? CheckApplicable(EvaluationDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        // The arms share rpm's build, so they run exactly where rpm runs.
        return new RpmMethod().CheckApplicable(dataset);
    }

    /// <inheritdoc />
    public async Task<object?> PrepareUserAsync(MethodContext context, EvaluationUser user, CancellationToken cancellationToken)
    {
        UserModel model = await RpmMethod.BuildAsync(context, user, cancellationToken).ConfigureAwait(false);
        return Arm == RpmAblation.QueryKey
            ? new QueryKeyState(model, await RawQueryRetriever.IndexAsync(model, context.RequireEmbeddingGenerator(), cancellationToken).ConfigureAwait(false))
            : model;
    }

    /// <inheritdoc />
    public async Task<MethodAnswer> AnswerAsync(MethodContext context, EvaluationUser user, object? state, EvaluationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        RpmOptions options = context.CreateRpmOptions();
        Microsoft.Extensions.AI.IChatClient chat = context.RequireChatClient();
        if (state is QueryKeyState keyed)
        {
            var retriever = new RawQueryRetriever(new FeatureRetriever(context.RequireEmbeddingGenerator(), options), keyed.Index, query.ToRpmQuery().Content);
            var pipeline = new RpmPipeline(
                chat, new FeatureExtractor(chat, options), new FactorConstructor(chat, options), new StatisticsBuilder(), new ReasoningPathBuilder(chat, options),
                retriever, new InMemoryUserModelStore(), new InMemoryBuildCheckpointStore(), options);
            return await RpmMethod.RespondAsync(pipeline, keyed.Model, query, cancellationToken).ConfigureAwait(false);
        }

        UserModel model = state as UserModel ?? throw new InvalidOperationException($"{Name} was asked to answer for a user it did not build.");
        RpmQuery rpmQuery = query.ToRpmQuery();

        // Stage 5, exactly as RPM's pipeline asks it (same request, same prompt): the query's content, the user's factors.
        IReadOnlyList<Feature> features;
        try
        {
            FeatureExtractionResult extraction = await new FeatureExtractor(chat, options).ExtractAsync(
                new FeatureExtractionRequest(model.Task, rpmQuery.Id, rpmQuery.Content, rpmQuery.Options, model.Statistics),
                cancellationToken).ConfigureAwait(false);
            features = extraction.Features;
        }
        catch (RpmModelOutputException ex) when (ex.Failure == ModelOutputFailure.InvalidOutput)
        {
            return new MethodAnswer(string.Empty, false) { Error = ex.Message };
        }

        IReadOnlyList<RetrievedExample>? examples = Arm == RpmAblation.NoExamples
            ? null
            : await new FeatureRetriever(context.RequireEmbeddingGenerator(), options).RetrieveAsync(model, features, context.RetrievalCount, cancellationToken).ConfigureAwait(false);
        MethodAnswer answer = await BaselineChat.AnswerAsync(
            context,
            RpmAblationPrompts.Answer(context, model, query, features, examples, ChainOfThought),
            ChainOfThought,
            query,
            examples is null ? [] : [.. examples.Select(e => new ExplainedExample(e.Path.Item.Id, e.Path.Item.Input, e.Path.Item.Output, Math.Round(e.Similarity, 4)))],
            cancellationToken).ConfigureAwait(false);
        return new MethodAnswer(answer.Answer, answer.IsValid)
        {
            Rationale = answer.Rationale,
            Examples = answer.Examples,
            Error = answer.Error,
            QueryFeatures = [.. features.Select(f => f.ToString())],
        };
    }

    /// <summary>The raw-query arm's state: RPM's user model and an index of the inputs of its reasoning paths.</summary>
    private sealed record QueryKeyState(UserModel Model, DenseHistoryIndex? Index) : IUserModelState;
}
