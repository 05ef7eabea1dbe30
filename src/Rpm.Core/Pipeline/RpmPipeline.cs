using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Personalizes a chat model for each user at the level of reasoning (RPM, arXiv 2505.21082): builds a user model
/// from the user's history, then answers new queries guided by the user's most similar past reasoning.
/// </summary>
/// <remarks>
/// A build of N history items costs 2N + 1 model calls (features per item, factors once, a reasoning path per item),
/// run up to <see cref="RpmOptions.MaxConcurrency"/> at a time; a response costs 2 calls. The type is thread-safe.
/// </remarks>
public sealed class RpmPipeline
{
    private readonly IFeatureExtractor _featureExtractor;
    private readonly IStatisticsBuilder _statisticsBuilder;
    private readonly IReasoningPathBuilder _reasoningPathBuilder;
    private readonly IFeatureRetriever _retriever;
    private readonly IUserModelStore _store;
    private readonly IBuildCheckpointStore _checkpoints;
    private readonly RpmOptions _options;
    private readonly ResponseGenerator _generator;
    private readonly string? _chatModelId;
    private readonly ModelFreePredictor? _fallback;

    /// <summary>Initializes a new instance of the <see cref="RpmPipeline"/> class with the default stages, in-memory stores and the given models.</summary>
    /// <param name="chatClient">The chat model.</param>
    /// <param name="embeddingGenerator">The embedding model for feature retrieval.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    public RpmPipeline(IChatClient chatClient, IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator, RpmOptions? options = null)
        : this(chatClient, embeddingGenerator, new InMemoryUserModelStore(), new InMemoryBuildCheckpointStore(), options ?? new RpmOptions())
    {
    }

    private RpmPipeline(IChatClient chatClient, IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator, IUserModelStore store, IBuildCheckpointStore checkpoints, RpmOptions options)
        : this(
            chatClient,
            new FeatureExtractor(chatClient, options),
            new StatisticsBuilder(chatClient, options),
            new ReasoningPathBuilder(chatClient, options),
            new FeatureRetriever(embeddingGenerator, options),
            store,
            checkpoints,
            options)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RpmPipeline"/> class from its stages.</summary>
    /// <param name="chatClient">The chat model, used for the final generation stage.</param>
    /// <param name="featureExtractor">Stages 1 and 5.</param>
    /// <param name="statisticsBuilder">Stages 2 and 3.</param>
    /// <param name="reasoningPathBuilder">Stage 4.</param>
    /// <param name="retriever">Stage 6 (and the embeddings of the reasoning memory).</param>
    /// <param name="store">Where built user models are kept.</param>
    /// <param name="checkpoints">Where a build in progress keeps finished calls.</param>
    /// <param name="options">The options; validated here.</param>
    public RpmPipeline(
        IChatClient chatClient,
        IFeatureExtractor featureExtractor,
        IStatisticsBuilder statisticsBuilder,
        IReasoningPathBuilder reasoningPathBuilder,
        IFeatureRetriever retriever,
        IUserModelStore store,
        IBuildCheckpointStore checkpoints,
        RpmOptions options)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        ArgumentNullException.ThrowIfNull(featureExtractor);
        ArgumentNullException.ThrowIfNull(statisticsBuilder);
        ArgumentNullException.ThrowIfNull(reasoningPathBuilder);
        ArgumentNullException.ThrowIfNull(retriever);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _featureExtractor = featureExtractor;
        _statisticsBuilder = statisticsBuilder;
        _reasoningPathBuilder = reasoningPathBuilder;
        _retriever = retriever;
        _store = store;
        _checkpoints = checkpoints;
        _options = options;
        _generator = new ResponseGenerator(chatClient, options);
        _chatModelId = options.ChatOptions?.ModelId ?? chatClient.GetService<ChatClientMetadata>()?.DefaultModelId;
        _fallback = options.FallbackToModelFree ? new ModelFreePredictor(options: new ModelFreePredictorOptions { RetrievalCount = options.RetrievalCount }) : null;
    }

    /// <summary>Gets the options.</summary>
    public RpmOptions Options => _options;

    /// <summary>Gets the store where built user models are kept.</summary>
    public IUserModelStore Store => _store;

    /// <summary>
    /// Builds (or rebuilds) a user's model from the user's history and saves it: features per item, factors over all
    /// features, factor statistics, a reasoning path per item, and the embeddings of each item's feature text.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history; item ids unique, outputs valid for the task.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved user model.</returns>
    /// <remarks>
    /// Every finished model call is checkpointed: running the build again after a crash, a cancellation or a model
    /// outage resumes and repeats no call that already succeeded.
    /// </remarks>
    /// <exception cref="ArgumentException">The user id is blank, the history is empty, or an item is invalid (the item is named).</exception>
    /// <exception cref="RpmModelOutputException">The model's answer for a stage was invalid on every attempt.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved a model for the user during the build.</exception>
    public async Task<UserModel> BuildUserModelAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(history);
        IReadOnlyList<HistoryItem> items = NormalizeHistory(task, history, existing: null, nameof(history));
        if (items.Count == 0)
        {
            throw new ArgumentException($"The history of '{userId}' is empty: a user model needs at least one history item.", nameof(history));
        }

        using Activity? activity = RpmTelemetry.Source.StartActivity("rpm.build");
        activity?.SetTag("rpm.user_id", userId);
        activity?.SetTag("rpm.history_items", items.Count);

        UserModel? existing = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        string buildKey = BuildKey("build", task);
        IReadOnlyDictionary<string, string> saved = await _checkpoints.LoadAsync(userId, buildKey, cancellationToken).ConfigureAwait(false);

        // Stage 1: features of every history item.
        var (withFeatures, usage, diagnostics) = await ExtractHistoryFeaturesAsync(userId, task, buildKey, saved, items, factors: null, cancellationToken).ConfigureAwait(false);

        if (withFeatures.Count == 0)
        {
            throw new RpmStageException(
                RpmStage.FeatureExtraction, userId, $"The model refused (or its content filter stopped) every history item of '{userId}', so no model can be built: {diagnostics.ExclusionReason}") { Usage = usage };
        }

        // Stage 2: factors over all of the user's features (items the model refused are left out).
        FactorCheckpoint factors = await ConstructFactorsAsync(userId, task, buildKey, saved, withFeatures, cancellationToken).ConfigureAwait(false);
        usage += factors.Usage;
        diagnostics += factors.Diagnostics;
        IReadOnlyList<ItemFeatures> assigned = [.. withFeatures.Select(i => new ItemFeatures(i.Item, factors.Items.TryGetValue(i.Item.Id, out var f) ? f : []))];

        // Stage 3: statistics, counted locally.
        IReadOnlyList<FactorStatistics> statistics = await _statisticsBuilder.ComputeStatisticsAsync(task, factors.Factors, assigned, cancellationToken).ConfigureAwait(false);

        // Stage 4 and the retrieval keys.
        var (paths, reasoningUsage, reasoningDiagnostics) = await BuildPathsAsync(userId, task, buildKey, saved, assigned, statistics, cancellationToken).ConfigureAwait(false);
        usage += reasoningUsage;
        diagnostics += reasoningDiagnostics;
        var (indexed, embeddingModelId) = await IndexAsync(paths, cancellationToken).ConfigureAwait(false);

        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        var model = new UserModel(userId, task, statistics, indexed)
        {
            ChatModelId = _chatModelId,
            EmbeddingModelId = embeddingModelId,
            EmbeddingDimensions = indexed.Count > 0 ? indexed[0].Embedding.Length : 0,
            CreatedAt = now,
            UpdatedAt = now,
            BuildUsage = usage,
            Diagnostics = diagnostics,
        };

        UserModel result = await _store.SaveAsync(model, existing?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        await _checkpoints.ClearAsync(userId, CancellationToken.None).ConfigureAwait(false);
        activity?.SetTag("rpm.model_calls", usage.Calls);
        return result;
    }

    /// <summary>
    /// Adds new history items to a user's saved model without rebuilding it: only the new items get feature
    /// extraction (tagged with the existing factors) and reasoning paths; the statistics are recomputed locally over
    /// the whole history. Factors are rebuilt from all features only when more than
    /// <see cref="RpmOptions.FactorRebuildThreshold"/> of the new features fit no existing factor.
    /// </summary>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="newItems">The new items; ids must not already be in the model.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The saved, updated model.</returns>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    /// <exception cref="ArgumentException">An item is invalid or its id is already in the model.</exception>
    /// <exception cref="UserModelConcurrencyException">Another writer saved the user's model during the update.</exception>
    public async Task<UserModel> AddHistoryAsync(string userId, IEnumerable<HistoryItem> newItems, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(newItems);
        UserModel existing = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The user '{userId}' has no saved model to add history to; build one first with {nameof(BuildUserModelAsync)}.");
        RpmTask task = existing.Task;
        IReadOnlyList<HistoryItem> items = NormalizeHistory(task, newItems, existing, nameof(newItems));
        if (items.Count == 0)
        {
            return existing;
        }

        using Activity? activity = RpmTelemetry.Source.StartActivity("rpm.add_history");
        activity?.SetTag("rpm.user_id", userId);
        activity?.SetTag("rpm.new_items", items.Count);

        string buildKey = BuildKey("update:" + existing.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), task);
        IReadOnlyDictionary<string, string> saved = await _checkpoints.LoadAsync(userId, buildKey, cancellationToken).ConfigureAwait(false);

        // New items' features, tagged with the existing factors (factor-aware extraction).
        var (newFeatures, usage, diagnostics) = await ExtractHistoryFeaturesAsync(userId, task, buildKey, saved, items, existing.Statistics, cancellationToken).ConfigureAwait(false);

        List<ItemFeatures> all = [.. existing.Paths.Select(p => new ItemFeatures(p.Item, p.Features)), .. newFeatures];
        IReadOnlyList<Factor> factors = [.. existing.Factors];
        int newFeatureCount = newFeatures.Sum(i => i.Features.Count);
        int unassigned = newFeatures.Sum(i => i.Features.Count(f => f.IsUnassigned));
        bool rebuild = newFeatureCount > 0 && (double)unassigned / newFeatureCount > _options.FactorRebuildThreshold;
        activity?.SetTag("rpm.factors_rebuilt", rebuild);
        if (rebuild)
        {
            FactorCheckpoint rebuilt = await ConstructFactorsAsync(userId, task, buildKey, saved, all, cancellationToken).ConfigureAwait(false);
            usage += rebuilt.Usage;
            diagnostics += rebuilt.Diagnostics;
            factors = rebuilt.Factors;
            all = [.. all.Select(i => new ItemFeatures(i.Item, rebuilt.Items.TryGetValue(i.Item.Id, out var f) ? f : i.Features))];
        }

        IReadOnlyList<FactorStatistics> statistics = await _statisticsBuilder.ComputeStatisticsAsync(task, factors, all, cancellationToken).ConfigureAwait(false);

        // Reasoning paths for the new items only; existing paths keep their reasoning and embeddings,
        // with their features re-tagged when the factors were rebuilt.
        var newAssigned = all.Skip(existing.Paths.Count).ToList();
        var (newPaths, reasoningUsage, reasoningDiagnostics) = await BuildPathsAsync(userId, task, buildKey, saved, newAssigned, statistics, cancellationToken).ConfigureAwait(false);
        usage += reasoningUsage;
        diagnostics += reasoningDiagnostics;
        var (indexedNew, embeddingModelId) = await IndexAsync(newPaths, cancellationToken).ConfigureAwait(false);
        if (existing.EmbeddingModelId is not null && embeddingModelId is not null && existing.EmbeddingModelId != embeddingModelId)
        {
            throw new InvalidOperationException(
                $"The user model of '{userId}' was indexed with embedding model '{existing.EmbeddingModelId}', but the retriever now uses '{embeddingModelId}'. Rebuild the model instead of adding history.");
        }

        var paths = new List<ReasoningPath>(all.Count);
        for (int i = 0; i < existing.Paths.Count; i++)
        {
            ReasoningPath old = existing.Paths[i];
            paths.Add(rebuild ? new ReasoningPath(old.Item, all[i].Features, old.Reasoning, old.Embedding) : old);
        }

        paths.AddRange(indexedNew);
        var updated = new UserModel(userId, task, statistics, paths)
        {
            ChatModelId = existing.ChatModelId ?? _chatModelId,
            EmbeddingModelId = existing.EmbeddingModelId ?? embeddingModelId,
            EmbeddingDimensions = existing.EmbeddingDimensions != 0 ? existing.EmbeddingDimensions : (indexedNew.Count > 0 ? indexedNew[0].Embedding.Length : 0),
            CreatedAt = existing.CreatedAt,
            UpdatedAt = _options.TimeProvider.GetUtcNow(),
            Version = existing.Version,
            BuildUsage = existing.BuildUsage + usage,
            Diagnostics = existing.Diagnostics + diagnostics,
        };

        UserModel result = await _store.SaveAsync(updated, existing.Version, cancellationToken).ConfigureAwait(false);
        await _checkpoints.ClearAsync(userId, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    /// <summary>Gets a user's saved model.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The model, or <see langword="null"/> when none is saved.</returns>
    public Task<UserModel?> GetUserModelAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        return _store.GetAsync(userId, cancellationToken);
    }

    /// <summary>Answers a query for the user of a saved model, as <see cref="RespondAsync(UserModel, RpmQuery, CancellationToken)"/> does.</summary>
    /// <param name="userId">The user, who must have a saved model.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The personalized response.</returns>
    /// <exception cref="InvalidOperationException">The user has no saved model.</exception>
    public async Task<RpmResponse> RespondAsync(string userId, RpmQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(query);
        UserModel model = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The user '{userId}' has no saved model; build one first with {nameof(BuildUserModelAsync)}.");
        return await RespondAsync(model, query, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers a query as the user would: extracts the query's features tagged with the user's factors, retrieves the
    /// K past reasoning paths with the most similar features, and asks the model for a rationale and a final answer.
    /// </summary>
    /// <param name="userModel">The user's model.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The answer, the rationale, the query's features and the retrieved examples.</returns>
    /// <exception cref="ArgumentException">A multiple-choice query has no options.</exception>
    /// <exception cref="RpmModelOutputException">The model's answer was invalid on every attempt.</exception>
    /// <exception cref="RpmStageException">A model call failed.</exception>
    public async Task<RpmResponse> RespondAsync(UserModel userModel, RpmQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userModel);
        ArgumentNullException.ThrowIfNull(query);
        if (userModel.Task.Kind == RpmTaskKind.MultipleChoice && query.Options is not { Count: > 0 } && userModel.Task.Labels.Count == 0)
        {
            throw new ArgumentException($"The multiple-choice query '{query.Id}' has no options, and the task '{userModel.Task.Name}' has no default options.", nameof(query));
        }

        using Activity? activity = RpmTelemetry.Source.StartActivity("rpm.respond");
        activity?.SetTag("rpm.user_id", userModel.UserId);

        // Stage 5: factor-aware features of the query.
        FeatureExtractionResult extraction;
        try
        {
            extraction = await _featureExtractor.ExtractAsync(
                new FeatureExtractionRequest(userModel.Task, query.Id, query.Input) { Options = query.Options, Factors = userModel.Statistics },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RpmStageException ex) when (CanFallBack(userModel))
        {
            // Without the query's features, the query text itself is the retrieval key.
            IReadOnlyList<Feature> key = [new Feature("Query", query.Input)];
            IReadOnlyList<RetrievedExample> nearest = await _retriever.RetrieveAsync(userModel, key, _options.RetrievalCount, cancellationToken).ConfigureAwait(false);
            return FallBack(userModel, query, [], nearest, ModelUsage.None, ex, activity);
        }

        // Stage 6: the K past reasoning paths whose feature text is most similar.
        IReadOnlyList<RetrievedExample> examples = await _retriever.RetrieveAsync(userModel, extraction.Features, _options.RetrievalCount, cancellationToken).ConfigureAwait(false);

        // Stage 7: rationale and answer.
        try
        {
            var (answer, rationale, usage) = await _generator.GenerateAsync(userModel, query, extraction.Features, examples, cancellationToken).ConfigureAwait(false);
            return new RpmResponse(answer, rationale, extraction.Features, examples, extraction.Usage + usage);
        }
        catch (RpmStageException ex) when (CanFallBack(userModel))
        {
            return FallBack(userModel, query, extraction.Features, examples, extraction.Usage, ex, activity);
        }
    }

    private bool CanFallBack(UserModel userModel) =>
        _fallback is not null && ModelFreePredictor.Supports(userModel.Task) && userModel.Paths.Count > 0;

    private RpmResponse FallBack(
        UserModel userModel, RpmQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample> examples, ModelUsage usage, RpmStageException failure, Activity? activity)
    {
        ModelFreePrediction prediction = _fallback!.Predict(userModel, query, examples, features.Count > 0 ? features : null);
        activity?.SetTag("rpm.fallback", failure.Stage.ToString());
        return new RpmResponse(prediction.Answer, prediction.Explanation, features, examples, usage)
        {
            FallbackReason = $"The chat model failed at stage {failure.Stage}: {failure.Message} The answer comes from the user's statistics and most similar past items, without the model.",
        };
    }

    private async Task<(List<ItemFeatures> Items, ModelUsage Usage, BuildDiagnostics Diagnostics)> ExtractHistoryFeaturesAsync(
        string userId, RpmTask task, string buildKey, IReadOnlyDictionary<string, string> saved, IReadOnlyList<HistoryItem> items,
        IReadOnlyList<FactorStatistics>? factors, CancellationToken cancellationToken)
    {
        var results = new FeatureCheckpoint[items.Count];
        var pending = new List<int>();
        for (int i = 0; i < items.Count; i++)
        {
            if (saved.TryGetValue(FeatureKey(items[i]), out string? json))
            {
                results[i] = Read(json, RpmJsonContext.Default.FeatureCheckpoint, FeatureKey(items[i]));
            }
            else
            {
                pending.Add(i);
            }
        }

        await RunCallsAsync(pending, _options.FeatureExtractionBatchSize, async (batch, ct) =>
        {
            FeatureExtractionRequest[] requests = [.. batch.Select(i => new FeatureExtractionRequest(task, items[i].Id, items[i].Input)
            {
                Options = items[i].Options,
                KnownOutput = task.Kind == RpmTaskKind.Generation ? items[i].Output : null,
                Factors = factors,
            })];
            IReadOnlyList<FeatureExtractionResult> extracted;
            try
            {
                extracted = batch.Count == 1
                    ? [await _featureExtractor.ExtractAsync(requests[0], ct).ConfigureAwait(false)]
                    : await _featureExtractor.ExtractBatchAsync(requests, ct).ConfigureAwait(false);
            }
            catch (RpmModelOutputException ex) when (IsContentJudgment(ex))
            {
                // A refusal or a filter stop is about an item's content: left out, and remembered so that no re-run pays
                // for it again. In a batch the item to blame is unknown, so each is asked on its own.
                for (int j = 0; j < batch.Count; j++)
                {
                    int i = batch[j];
                    ModelUsage batchUsage = j == 0 && batch.Count > 1 ? ex.Usage : ModelUsage.None;
                    RpmModelOutputException? judgment = batch.Count == 1 ? ex : null;
                    FeatureExtractionResult? one = null;
                    if (judgment is null)
                    {
                        try
                        {
                            one = await _featureExtractor.ExtractAsync(requests[j], ct).ConfigureAwait(false);
                        }
                        catch (RpmModelOutputException single) when (IsContentJudgment(single))
                        {
                            judgment = single;
                        }
                    }

                    results[i] = one is not null
                        ? new FeatureCheckpoint { Features = [.. one.Features], Usage = one.Usage + batchUsage, Diagnostics = one.Diagnostics }
                        : new FeatureCheckpoint { Features = [], Usage = judgment!.Usage + batchUsage, Excluded = Exclusion(items[i], judgment) };

                    await SaveCheckpointAsync(userId, buildKey, FeatureKey(items[i]), JsonSerializer.Serialize(results[i], RpmJsonContext.Default.FeatureCheckpoint)).ConfigureAwait(false);
                }

                return;
            }

            for (int j = 0; j < batch.Count; j++)
            {
                int i = batch[j];
                results[i] = new FeatureCheckpoint { Features = [.. extracted[j].Features], Usage = extracted[j].Usage, Diagnostics = extracted[j].Diagnostics };
                await SaveCheckpointAsync(userId, buildKey, FeatureKey(items[i]), JsonSerializer.Serialize(results[i], RpmJsonContext.Default.FeatureCheckpoint)).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);

        ModelUsage usage = results.Aggregate(ModelUsage.None, (sum, r) => sum + r.Usage);
        BuildDiagnostics diagnostics = results.Aggregate(BuildDiagnostics.None, (sum, r) => sum + r.Diagnostics + Excluded(r.Excluded));
        return ([.. items.Select((item, i) => (item, i)).Where(x => results[x.i].Excluded is null).Select(x => new ItemFeatures(x.item, results[x.i].Features))], usage, diagnostics);
    }

    private static bool IsContentJudgment(RpmModelOutputException ex) => ex.Failure is ModelOutputFailure.Refused or ModelOutputFailure.ContentFiltered;

    private static string Exclusion(HistoryItem item, RpmModelOutputException ex) =>
        $"item '{item.Id}' at {ex.Stage}: {(ex.Failure == ModelOutputFailure.Refused ? "the model refused: " : "the content filter stopped it: ")}{ex.Error}";

    private static BuildDiagnostics Excluded(string? reason) =>
        reason is null ? BuildDiagnostics.None : new BuildDiagnostics { ItemsExcluded = 1, ExclusionReason = reason };

    private async Task<FactorCheckpoint> ConstructFactorsAsync(
        string userId, RpmTask task, string buildKey, IReadOnlyDictionary<string, string> saved, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken)
    {
        string key = "factors/" + Hash(string.Join("\n", items.Select(i => ItemKey(i.Item))));
        if (saved.TryGetValue(key, out string? json))
        {
            return Read(json, RpmJsonContext.Default.FactorCheckpoint, key);
        }

        FactorConstruction construction = await _statisticsBuilder.ConstructFactorsAsync(userId, task, items, cancellationToken).ConfigureAwait(false);
        var result = new FactorCheckpoint
        {
            Factors = [.. construction.Factors],
            Items = construction.Items.ToDictionary(i => i.Item.Id, i => i.Features.ToList(), StringComparer.Ordinal),
            Usage = construction.Usage,
            Diagnostics = construction.Diagnostics,
        };
        await SaveCheckpointAsync(userId, buildKey, key, JsonSerializer.Serialize(result, RpmJsonContext.Default.FactorCheckpoint)).ConfigureAwait(false);
        return result;
    }

    private async Task<(List<ReasoningPath> Paths, ModelUsage Usage, BuildDiagnostics Diagnostics)> BuildPathsAsync(
        string userId, RpmTask task, string buildKey, IReadOnlyDictionary<string, string> saved, IReadOnlyList<ItemFeatures> items,
        IReadOnlyList<FactorStatistics> statistics, CancellationToken cancellationToken)
    {
        var results = new ReasoningCheckpoint[items.Count];
        var pending = new List<int>();
        for (int i = 0; i < items.Count; i++)
        {
            if (saved.TryGetValue(ReasoningKey(items[i].Item), out string? json))
            {
                results[i] = Read(json, RpmJsonContext.Default.ReasoningCheckpoint, ReasoningKey(items[i].Item));
            }
            else
            {
                pending.Add(i);
            }
        }

        await RunCallsAsync(pending, _options.ReasoningBatchSize, async (batch, ct) =>
        {
            ReasoningPathRequest[] requests = [.. batch.Select(i => new ReasoningPathRequest(task, items[i].Item, items[i].Features, statistics))];
            IReadOnlyList<ReasoningPathResult> built;
            try
            {
                built = batch.Count == 1
                    ? [await _reasoningPathBuilder.BuildAsync(requests[0], ct).ConfigureAwait(false)]
                    : await _reasoningPathBuilder.BuildBatchAsync(requests, ct).ConfigureAwait(false);
            }
            catch (RpmModelOutputException ex) when (IsContentJudgment(ex))
            {
                for (int j = 0; j < batch.Count; j++)
                {
                    int i = batch[j];
                    ModelUsage batchUsage = j == 0 && batch.Count > 1 ? ex.Usage : ModelUsage.None;
                    RpmModelOutputException? judgment = batch.Count == 1 ? ex : null;
                    ReasoningPathResult? one = null;
                    if (judgment is null)
                    {
                        try
                        {
                            one = await _reasoningPathBuilder.BuildAsync(requests[j], ct).ConfigureAwait(false);
                        }
                        catch (RpmModelOutputException single) when (IsContentJudgment(single))
                        {
                            judgment = single;
                        }
                    }

                    results[i] = one is not null
                        ? new ReasoningCheckpoint { Reasoning = one.Reasoning, Usage = one.Usage + batchUsage, Diagnostics = one.Diagnostics }
                        : new ReasoningCheckpoint { Reasoning = string.Empty, Usage = judgment!.Usage + batchUsage, Excluded = Exclusion(items[i].Item, judgment) };

                    await SaveCheckpointAsync(userId, buildKey, ReasoningKey(items[i].Item), JsonSerializer.Serialize(results[i], RpmJsonContext.Default.ReasoningCheckpoint)).ConfigureAwait(false);
                }

                return;
            }

            for (int j = 0; j < batch.Count; j++)
            {
                int i = batch[j];
                results[i] = new ReasoningCheckpoint { Reasoning = built[j].Reasoning, Usage = built[j].Usage, Diagnostics = built[j].Diagnostics };
                await SaveCheckpointAsync(userId, buildKey, ReasoningKey(items[i].Item), JsonSerializer.Serialize(results[i], RpmJsonContext.Default.ReasoningCheckpoint)).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);

        ModelUsage usage = results.Aggregate(ModelUsage.None, (sum, r) => sum + r.Usage);
        BuildDiagnostics diagnostics = results.Aggregate(BuildDiagnostics.None, (sum, r) => sum + r.Diagnostics + Excluded(r.Excluded));
        return ([.. items.Select((item, i) => (item, i)).Where(x => results[x.i].Excluded is null).Select(x => new ReasoningPath(x.item.Item, x.item.Features, results[x.i].Reasoning))], usage, diagnostics);
    }

    private async Task<(List<ReasoningPath> Paths, string? ModelId)> IndexAsync(List<ReasoningPath> paths, CancellationToken cancellationToken)
    {
        if (paths.Count == 0)
        {
            return (paths, null);
        }

        FeatureEmbeddings embeddings = await _retriever.EmbedAsync([.. paths.Select(p => p.Features)], cancellationToken).ConfigureAwait(false);
        if (embeddings.Vectors.Count != paths.Count)
        {
            throw new InvalidOperationException($"The retriever returned {embeddings.Vectors.Count} embeddings for {paths.Count} reasoning paths.");
        }

        int dimensions = embeddings.Vectors[0].Length;
        for (int i = 0; i < paths.Count; i++)
        {
            ReadOnlyMemory<float> vector = embeddings.Vectors[i];
            if (vector.Length == 0 || vector.Length != dimensions)
            {
                throw new InvalidOperationException($"The embedding of history item '{paths[i].Item.Id}' has {vector.Length} dimensions; {dimensions} were expected.");
            }

            // Reject vectors that cosine similarity cannot use now, rather than at query time.
            try
            {
                CosineKernel.Normalize(vector.Span, new float[vector.Length]);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"The embedding of history item '{paths[i].Item.Id}' cannot be stored: {ex.Message}", ex);
            }
        }

        return ([.. paths.Select((p, i) => p.WithEmbedding(embeddings.Vectors[i]))], embeddings.ModelId);
    }

    // Independent model calls of a build run concurrently, up to MaxConcurrency at a time, in batches of batchSize items.
    // A failed call stops new calls from starting but never cancels its siblings in flight: their answers are paid
    // for, so they finish and are checkpointed, and the next run pays only for what failed. Only the caller's token
    // cancels calls in flight.
    private async Task RunCallsAsync(List<int> indices, int batchSize, Func<List<int>, CancellationToken, ValueTask> body, CancellationToken cancellationToken)
    {
        var failures = new System.Collections.Concurrent.ConcurrentQueue<(int Order, System.Runtime.ExceptionServices.ExceptionDispatchInfo Failure)>();
        List<List<int>> batches = [.. indices.Chunk(batchSize).Select(chunk => chunk.ToList())];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, batches.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellationToken },
            async (b, _) =>
            {
                if (!failures.IsEmpty)
                {
                    return;
                }

                try
                {
                    await body(batches[b], cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failures.Enqueue((b, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex)));
                }
            }).ConfigureAwait(false);

        if (!failures.IsEmpty)
        {
            // The first failure in history order, so that a re-run reports the same item.
            failures.OrderBy(f => f.Order).First().Failure.Throw();
        }
    }

    // A call that succeeded is paid for: its result is kept even when the build is being cancelled (by the caller, or
    // by Parallel.ForEachAsync because a sibling call failed), so the next run does not pay for it again.
    private Task SaveCheckpointAsync(string userId, string buildKey, string entryKey, string value) =>
        _checkpoints.SaveAsync(userId, buildKey, entryKey, value, CancellationToken.None);

    private static IReadOnlyList<HistoryItem> NormalizeHistory(RpmTask task, IEnumerable<HistoryItem> history, UserModel? existing, string parameterName)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (existing is not null)
        {
            foreach (ReasoningPath path in existing.Paths)
            {
                ids.Add(path.Item.Id);
            }
        }

        var items = new List<HistoryItem>();
        int index = 0;
        foreach (HistoryItem? item in history)
        {
            if (item is null)
            {
                throw new ArgumentException($"History item at position {index} is null.", parameterName);
            }

            if (!ids.Add(item.Id))
            {
                throw new ArgumentException(
                    existing is null
                        ? $"The history item id '{item.Id}' appears more than once; ids must be unique within a user's history."
                        : $"The history item id '{item.Id}' is already in the user model of '{existing.UserId}'.",
                    parameterName);
            }

            if (task.Kind == RpmTaskKind.MultipleChoice && item.Options is not { Count: > 0 } && task.Labels.Count == 0)
            {
                throw new ArgumentException($"The multiple-choice history item '{item.Id}' has no options, and the task '{task.Name}' has no default options.", parameterName);
            }

            if (!task.TryNormalizeAnswer(item.Output, item.Options, out string output, out string? error))
            {
                throw new ArgumentException($"The output of history item '{item.Id}' is not valid for task '{task.Name}': {error}", parameterName);
            }

            items.Add(output == item.Output ? item : new HistoryItem(item.Id, item.Input, output, item.Timestamp, item.Options));
            index++;
        }

        return items;
    }

    private string BuildKey(string kind, RpmTask task)
    {
        string taskJson = string.Join(
            "|",
            task.Name,
            task.Kind,
            task.Description,
            string.Join(",", task.Labels),
            task.Scale is null ? string.Empty : $"{task.Scale.Minimum}:{task.Scale.Maximum}:{task.Scale.Step}");
        return kind + ":" + Hash(string.Join(
            "\n",
            RpmPrompts.Version,
            taskJson,
            _chatModelId ?? string.Empty,
            _options.MaxFeaturesPerItem,
            _options.MinFactors,
            _options.MaxFactors,
            _options.MaxInputTokens));
    }

    private static string FeatureKey(HistoryItem item) => "features/" + ItemKey(item);

    private static string ReasoningKey(HistoryItem item) => "reasoning/" + ItemKey(item);

    private static string ItemKey(HistoryItem item) =>
        item.Id + "/" + Hash(item.Input + "\u0001" + item.Output + "\u0001" + string.Join("\u0002", item.Options ?? []));

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));

    private static T Read<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string key)
    {
        try
        {
            return JsonSerializer.Deserialize(json, typeInfo) ?? throw new InvalidDataException($"The build checkpoint '{key}' is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The build checkpoint '{key}' is corrupt: {ex.Message}. Delete the user's checkpoints to rebuild from scratch.", ex);
        }
    }
}
