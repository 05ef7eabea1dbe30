using System.Diagnostics;

namespace Rpm;

/// <summary>
/// Answers a query as the user would: stage 5 (the query's features tagged with the user's factors), stage 6 (the K
/// most similar reasoning paths) and stage 7 (rationale and answer), and, when the chat model fails and
/// <see cref="RpmOptions.FallbackToModelFree"/> is set, the model-free answer instead.
/// </summary>
internal sealed class QueryResponder
{
    private readonly IFeatureExtractor _featureExtractor;
    private readonly IFeatureRetriever _retriever;
    private readonly ResponseGenerator _generator;
    private readonly RpmOptions _options;
    private readonly ModelFreePredictor? _fallback;
    private readonly PipelineTelemetry _telemetry;

    public QueryResponder(IFeatureExtractor featureExtractor, IFeatureRetriever retriever, ResponseGenerator generator, RpmOptions options, PipelineTelemetry telemetry)
    {
        _featureExtractor = featureExtractor;
        _retriever = retriever;
        _generator = generator;
        _options = options;
        _telemetry = telemetry;
        _fallback = options.FallbackToModelFree ? new ModelFreePredictor(retriever, new ModelFreePredictorOptions { RetrievalCount = options.RetrievalCount }) : null;
    }

    public Task<RpmResponse> RespondAsync(UserModel userModel, RpmQuery query, CancellationToken cancellationToken) =>
        _telemetry.OperationAsync(
            "rpm.respond",
            userModel.UserId,
            _telemetry.Metrics.RespondDuration,
            response => new("rpm.fallback", response?.IsFallback ?? false),
            activity => RespondCoreAsync(userModel, query, activity, cancellationToken));

    private async Task<RpmResponse> RespondCoreAsync(UserModel userModel, RpmQuery query, Activity? activity, CancellationToken cancellationToken)
    {
        string userId = userModel.UserId;

        // Stage 5: factor-aware features of the query.
        FeatureExtractionResult extraction;
        try
        {
            extraction = await _telemetry.StageAsync(
                "query_feature_extraction",
                userId,
                1,
                () => _featureExtractor.ExtractAsync(
                    new FeatureExtractionRequest(userModel.Task, query.Id, query.Content, query.Options, userModel.Statistics),
                    cancellationToken)).ConfigureAwait(false);
        }
        catch (RpmStageException ex) when (CanFallBack(userModel))
        {
            // Without the query's features, the query text itself is the retrieval key.
            IReadOnlyList<RetrievedExample> nearest = await _telemetry.StageAsync(
                "retrieval", userId, 1, () => _retriever.RetrieveAsync(userModel, [new Feature("Query", query.Content)], _options.RetrievalCount, cancellationToken)).ConfigureAwait(false);
            return FallBack(_fallback!.Predict(userModel, query, nearest), [], nearest, ModelUsage.None, ex, userModel, query, activity);
        }

        // Stage 6: the K past reasoning paths whose feature text is most similar.
        IReadOnlyList<RetrievedExample> examples = await _telemetry.StageAsync(
            "retrieval", userId, extraction.Features.Count, () => _retriever.RetrieveAsync(userModel, extraction.Features, _options.RetrievalCount, cancellationToken)).ConfigureAwait(false);

        // Stage 7: rationale and answer.
        try
        {
            var (answer, rationale, grounded, usage) = await _telemetry.StageAsync(
                "generation", userId, examples.Count, () => _generator.GenerateAsync(userModel, query, extraction.Features, examples, cancellationToken)).ConfigureAwait(false);
            return new RpmResponse(answer, rationale, extraction.Features, examples, extraction.Usage + usage) { IsGrounded = grounded };
        }
        catch (RpmStageException ex) when (CanFallBack(userModel))
        {
            ModelFreePrediction fallback = _fallback!.Predict(userModel, query, examples, extraction.Features.Count > 0 ? extraction.Features : null);
            return FallBack(fallback, extraction.Features, examples, extraction.Usage, ex, userModel, query, activity);
        }
    }

    private bool CanFallBack(UserModel userModel) =>
        _fallback is not null && ModelFreePredictor.Supports(userModel.Task) && userModel.Paths.Count > 0;

    private RpmResponse FallBack(
        ModelFreePrediction prediction,
        IReadOnlyList<Feature> features,
        IReadOnlyList<RetrievedExample> examples,
        ModelUsage usage,
        RpmStageException failure,
        UserModel userModel,
        RpmQuery query,
        Activity? activity)
    {
        _telemetry.FellBack(userModel.UserId, query, failure, activity);
        return new RpmResponse(prediction.Answer, prediction.Explanation, features, examples, usage)
        {
            FallbackReason = $"The chat model failed at stage {failure.Stage}: {failure.Message} The answer comes from the user's statistics and most similar past items, without the model.",
        };
    }
}
