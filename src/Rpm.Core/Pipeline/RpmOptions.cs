using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Rpm;

/// <summary>Options of the RPM pipeline and its default stages.</summary>
public sealed class RpmOptions
{
    /// <summary>Gets or sets K, the number of past reasoning paths retrieved for a query. Default 3, as in the paper.</summary>
    public int RetrievalCount { get; set; } = 3;

    /// <summary>Gets or sets how many independent model calls of a build run at once. Default 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>
    /// Gets or sets how many times an answer that is not valid JSON, breaks the schema or fails validation is
    /// requested again, with the error told to the model. Default 1.
    /// </summary>
    public int MaxOutputRetries { get; set; } = 1;

    /// <summary>
    /// Gets or sets a value indicating whether structured outputs are requested with a JSON schema in
    /// <see cref="ChatOptions.ResponseFormat"/> (default). When <see langword="false"/>, JSON mode is requested and the
    /// schema is written into the prompt instead, for endpoints that reject schemas.
    /// </summary>
    public bool UseJsonSchemaResponseFormat { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the endpoint is asked to enforce each call's JSON schema strictly (OpenAI's
    /// strict structured outputs; the schemas carry the task's labels, the query's options and the user's factor names as
    /// enums). Default <see langword="true"/>; set <see langword="false"/> for servers that reject <c>"strict": true</c>.
    /// </summary>
    public bool UseStrictJsonSchema { get; set; } = true;

    /// <summary>Gets or sets chat options applied to every call (e.g. model id, temperature); cloned per call, never mutated.</summary>
    public ChatOptions? ChatOptions { get; set; }

    /// <summary>
    /// Gets or sets how many history items share one feature-extraction call during a build. Default 1, as in the paper
    /// (one call per item). Larger values cut the calls of stage 1 from N to N / size and repeat the instructions once
    /// per batch; every item is still extracted on its own and validated, and checkpointed when its batch finishes.
    /// </summary>
    public int FeatureExtractionBatchSize { get; set; } = 1;

    /// <summary>
    /// Gets or sets how many history items share one reasoning-path call. Default 1, as in the paper. Larger values
    /// send the user's factor statistics once per batch instead of once per item.
    /// </summary>
    public int ReasoningBatchSize { get; set; } = 1;

    /// <summary>
    /// Gets or sets how many history items of a generation task share one influence-judgment call (stage 3's model
    /// judgments of which features shaped the user's text). Default 10, so a generation build costs 2N + 1 + N / 10 calls;
    /// 1 asks for each item on its own. Labelled tasks make no judgment calls.
    /// </summary>
    public int InfluenceJudgmentBatchSize { get; set; } = 10;

    /// <summary>Gets or sets the most features the model may return for one input. Default 8.</summary>
    public int MaxFeaturesPerItem { get; set; } = 8;

    /// <summary>Gets or sets the fewest factors factor construction should produce. Default 3.</summary>
    public int MinFactors { get; set; } = 3;

    /// <summary>Gets or sets the most factors factor construction may produce. Default 10.</summary>
    public int MaxFactors { get; set; } = 10;

    /// <summary>
    /// Gets or sets the most distinct features listed in the factor-construction prompt, the most frequent first.
    /// Features beyond the list are assigned to factors by rule (see <see cref="BuildDiagnostics.FeaturesNotShownToFactorConstruction"/>).
    /// Default 200, which keeps the prompt bounded and the feature names within OpenAI's strict-schema enum limit.
    /// </summary>
    public int MaxFactorConstructionFeatures { get; set; } = 200;

    /// <summary>
    /// Gets or sets the longest input, in tokens, placed in a prompt; longer inputs are cut (head kept) and the
    /// prompt says so. Default 1,024.
    /// </summary>
    public int MaxInputTokens { get; set; } = 1024;

    /// <summary>
    /// Gets or sets the tokenizer used to count and cut prompt text. When <see langword="null"/>, a
    /// character heuristic (about four characters a token) is used.
    /// </summary>
    public Tokenizer? Tokenizer { get; set; }

    /// <summary>Gets or sets the most texts sent to the embedding generator in one request. Default 64.</summary>
    public int EmbeddingBatchSize { get; set; } = 64;

    /// <summary>
    /// Gets or sets the share of new history features that may fit none of the existing factors before an
    /// incremental update rebuilds the factors from all features. Default 0.3.
    /// </summary>
    public double FactorRebuildThreshold { get; set; } = 0.3;

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="RpmPipeline.RespondAsync(UserModel, RpmQuery, CancellationToken)"/>
    /// answers without the chat model when it fails (unreachable, or invalid answers on every attempt), for
    /// classification, rating and multiple-choice tasks: the <see cref="ModelFreePredictor"/> combines the user's factor
    /// statistics with the labels of the most similar past items. Such a response has <see cref="RpmResponse.IsFallback"/>
    /// set and says why in <see cref="RpmResponse.FallbackReason"/>. Default <see langword="false"/>: failures throw.
    /// </summary>
    public bool FallbackToModelFree { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether telemetry (spans and log messages) carries user ids as given. Default
    /// <see langword="false"/>: it carries <see cref="RpmTelemetry.PseudonymizeUserId"/> of each id instead, and replaces the
    /// quoted id in the text of exceptions recorded on spans. Metrics never carry user ids. Set it only where the
    /// telemetry's destination may hold the ids (they are often personal data).
    /// </summary>
    public bool EmitRawUserIds { get; set; }

    /// <summary>
    /// Gets or sets how many bytes of user models the pipeline keeps in memory between turns, so that a warm user's
    /// turn reads the model's entity tag (<see cref="IUserModelStore.GetETagAsync"/>, under 100 bytes) instead of the
    /// whole model, and reuses the model's search matrix. A cached model is used only while its tag matches the
    /// store's, so saves by other processes and hosts are seen on the next turn. Sizes are estimated from the models'
    /// text and embeddings (a 1,000-item model of 384-dimension embeddings is about 3 MB); the least recently used
    /// models leave first. Default 256 MiB; 0 turns the cache off (every turn reads the whole model). Not used with
    /// <see cref="InMemoryUserModelStore"/>, which holds every model in memory anyway.
    /// </summary>
    public long UserModelCacheSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Gets or sets how many personalizations of live turns (<see cref="RpmChatClient"/>, the Agent Framework context
    /// provider) are kept, so that the further requests of one turn (tool-call rounds, retries) reuse the first instead of
    /// paying for its feature call again. Keyed by user, the model's entity tag, mode and message, so a saved change of
    /// the model is never hidden; a degraded or failed personalization is never kept. A kept personalization refers to
    /// its model and leaves when the model leaves <see cref="UserModelCacheSize"/>'s cache, so memory stays within that
    /// limit (with the model cache off, up to this many models can stay referenced). Default 256; 0 keeps none.
    /// </summary>
    public int PersonalizationCacheSize { get; set; } = 256;

    /// <summary>Gets or sets the clock used for model timestamps and telemetry durations. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every option and throws one exception that names each invalid option.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid.</exception>
    public void Validate()
    {
        IReadOnlyList<string> errors = GetErrors();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid RpmOptions: " + string.Join(" ", errors));
        }
    }

    /// <summary>Checks every option and returns one sentence per invalid option (empty when all are valid).</summary>
    internal IReadOnlyList<string> GetErrors()
    {
        var errors = new List<string>();
        Check(RetrievalCount is >= 1 and <= 100, $"{nameof(RetrievalCount)} must be between 1 and 100 (was {RetrievalCount}).");
        Check(MaxConcurrency is >= 1 and <= 256, $"{nameof(MaxConcurrency)} must be between 1 and 256 (was {MaxConcurrency}).");
        Check(MaxOutputRetries is >= 0 and <= 5, $"{nameof(MaxOutputRetries)} must be between 0 and 5 (was {MaxOutputRetries}).");
        Check(FeatureExtractionBatchSize is >= 1 and <= 50, $"{nameof(FeatureExtractionBatchSize)} must be between 1 and 50 (was {FeatureExtractionBatchSize}).");
        Check(ReasoningBatchSize is >= 1 and <= 50, $"{nameof(ReasoningBatchSize)} must be between 1 and 50 (was {ReasoningBatchSize}).");
        Check(InfluenceJudgmentBatchSize is >= 1 and <= 50, $"{nameof(InfluenceJudgmentBatchSize)} must be between 1 and 50 (was {InfluenceJudgmentBatchSize}).");
        Check(MaxFeaturesPerItem is >= 1 and <= 50, $"{nameof(MaxFeaturesPerItem)} must be between 1 and 50 (was {MaxFeaturesPerItem}).");
        Check(MinFactors >= 1, $"{nameof(MinFactors)} must be at least 1 (was {MinFactors}).");
        Check(MaxFactors >= MinFactors && MaxFactors <= 100, $"{nameof(MaxFactors)} must be between {nameof(MinFactors)} ({MinFactors}) and 100 (was {MaxFactors}).");
        Check(MaxFactorConstructionFeatures is >= 1 and <= 1000, $"{nameof(MaxFactorConstructionFeatures)} must be between 1 and 1,000 (was {MaxFactorConstructionFeatures}).");
        Check(MaxInputTokens is >= 16 and <= 1_000_000, $"{nameof(MaxInputTokens)} must be between 16 and 1,000,000 (was {MaxInputTokens}).");
        Check(EmbeddingBatchSize is >= 1 and <= 4096, $"{nameof(EmbeddingBatchSize)} must be between 1 and 4,096 (was {EmbeddingBatchSize}).");
        Check(FactorRebuildThreshold is >= 0 and <= 1, $"{nameof(FactorRebuildThreshold)} must be between 0 and 1 (was {FactorRebuildThreshold}).");
        Check(UserModelCacheSize >= 0, $"{nameof(UserModelCacheSize)} must not be negative (was {UserModelCacheSize}; 0 turns the cache off).");
        Check(PersonalizationCacheSize >= 0, $"{nameof(PersonalizationCacheSize)} must not be negative (was {PersonalizationCacheSize}; 0 keeps none).");
        Check(TimeProvider is not null, $"{nameof(TimeProvider)} must not be null.");
        return errors;

        void Check(bool condition, string error)
        {
            if (!condition)
            {
                errors.Add(error);
            }
        }
    }
}
