namespace Rpm;

/// <summary>Turns a chat message and a user's model into an <see cref="RpmPersonalization"/>: stage 5 (or the message itself) and stage 6.</summary>
internal sealed class Personalizer
{
    /// <summary>The item id stage 5 is asked with for a chat message.</summary>
    public const string MessageItemId = "message";

    private readonly IFeatureExtractor _featureExtractor;
    private readonly IFeatureRetriever _retriever;
    private readonly RpmOptions _options;
    private readonly TextBudget _budget;
    private readonly PipelineTelemetry _telemetry;

    public Personalizer(IFeatureExtractor featureExtractor, IFeatureRetriever retriever, RpmOptions options, PipelineTelemetry telemetry)
    {
        _featureExtractor = featureExtractor;
        _retriever = retriever;
        _options = options;
        _budget = new TextBudget(options);
        _telemetry = telemetry;
    }

    public async Task<RpmPersonalization> PersonalizeAsync(UserModel model, string message, RpmPersonalizationMode mode, CancellationToken cancellationToken)
    {
        IReadOnlyList<Feature> features = [];
        ModelUsage usage = ModelUsage.None;
        string? fallbackReason = null;
        if (mode == RpmPersonalizationMode.QueryFeatures)
        {
            try
            {
                FeatureExtractionResult extraction = await _telemetry.StageAsync(
                    "query_feature_extraction",
                    model.UserId,
                    1,
                    () => _featureExtractor.ExtractAsync(
                        new FeatureExtractionRequest(model.Task, MessageItemId, message, factors: model.Statistics),
                        cancellationToken)).ConfigureAwait(false);
                features = extraction.Features;
                usage = extraction.Usage;
            }
            catch (RpmStageException ex)
            {
                // The personalization must not take the conversation down with it: a refused, filtered or unusable
                // feature answer leaves the message itself as the retrieval key, and says so.
                usage = ex.Usage;
                fallbackReason = $"The message's features could not be extracted ({ex.Message}); the message itself was the retrieval key.";
            }
        }

        IReadOnlyList<Feature> key = features.Count > 0 ? features : [new Feature("Message", message)];
        IReadOnlyList<RetrievedExample> examples = model.Paths.Count == 0
            ? []
            : await _telemetry.StageAsync(
                "retrieval", model.UserId, key.Count, () => _retriever.RetrieveAsync(model, key, _options.RetrievalCount, cancellationToken)).ConfigureAwait(false);
        string instructions = PersonalizationInstructions.Write(model, features, examples, _budget);
        RpmPersonalizationMode used = features.Count > 0 || fallbackReason is null ? mode : RpmPersonalizationMode.MessageEmbedding;
        return new RpmPersonalization(model, message, used, features, examples, instructions, usage) { FallbackReason = fallbackReason };
    }
}
