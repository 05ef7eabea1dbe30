using System.Diagnostics;
using Rpm.Simd;

namespace Rpm;

/// <summary>
/// Builds and updates user models: stage 1 (features per item), stage 2 (factors), stage 3 (statistics), stage 4 (a
/// reasoning path per item) and the retrieval index, every model call through one checkpointed <see cref="BuildSession"/>.
/// </summary>
internal sealed partial class UserModelBuilder
{
    private readonly IFeatureExtractor _featureExtractor;
    private readonly IFactorConstructor _factorConstructor;
    private readonly IStatisticsBuilder _statisticsBuilder;
    private readonly IReasoningPathBuilder _reasoningPathBuilder;
    private readonly IInfluenceJudge _influenceJudge;
    private readonly IFeatureRetriever _retriever;
    private readonly IUserModelStore _store;
    private readonly IBuildCheckpointStore _checkpoints;
    private readonly RpmOptions _options;
    private readonly string? _chatModelId;
    private readonly PipelineTelemetry _telemetry;

    public UserModelBuilder(
        IFeatureExtractor featureExtractor,
        IFactorConstructor factorConstructor,
        IStatisticsBuilder statisticsBuilder,
        IReasoningPathBuilder reasoningPathBuilder,
        IInfluenceJudge influenceJudge,
        IFeatureRetriever retriever,
        IUserModelStore store,
        IBuildCheckpointStore checkpoints,
        RpmOptions options,
        string? chatModelId,
        PipelineTelemetry telemetry)
    {
        _featureExtractor = featureExtractor;
        _factorConstructor = factorConstructor;
        _statisticsBuilder = statisticsBuilder;
        _reasoningPathBuilder = reasoningPathBuilder;
        _influenceJudge = influenceJudge;
        _retriever = retriever;
        _store = store;
        _checkpoints = checkpoints;
        _options = options;
        _chatModelId = chatModelId;
        _telemetry = telemetry;
    }

    /// <summary>Builds a model from a validated, non-empty history and saves it.</summary>
    public Task<UserModel> BuildAsync(string userId, RpmTask task, IReadOnlyList<HistoryItem> items, CancellationToken cancellationToken) =>
        _telemetry.OperationAsync("rpm.build", userId, _telemetry.Metrics.BuildDuration, _ => PipelineTelemetry.Operation("build"), activity =>
        {
            activity?.SetTag("rpm.history_items", items.Count);
            return BuildCoreAsync(userId, task, items, activity, cancellationToken);
        });

    /// <summary>Adds validated, non-empty new items to a saved model and saves it.</summary>
    public Task<UserModel> AddHistoryAsync(UserModel existing, IReadOnlyList<HistoryItem> items, CancellationToken cancellationToken) =>
        _telemetry.OperationAsync("rpm.add_history", existing.UserId, _telemetry.Metrics.BuildDuration, _ => PipelineTelemetry.Operation("add_history"), activity =>
        {
            activity?.SetTag("rpm.new_items", items.Count);
            return AddHistoryCoreAsync(existing, items, activity, cancellationToken);
        });

    private async Task<UserModel> BuildCoreAsync(string userId, RpmTask task, IReadOnlyList<HistoryItem> items, Activity? activity, CancellationToken cancellationToken)
    {
        UserModel? existing = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        var model = await RunStagesAsync("build", userId, task, items, factorsOf: null, activity, cancellationToken).ConfigureAwait(false);
        return await SaveAsync("build", model, existing?.Version ?? 0, activity, cancellationToken).ConfigureAwait(false);
    }

    private async Task<UserModel> AddHistoryCoreAsync(UserModel existing, IReadOnlyList<HistoryItem> items, Activity? activity, CancellationToken cancellationToken)
    {
        string kind = "update:" + existing.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var model = await RunStagesAsync(kind, existing.UserId, existing.Task, items, existing, activity, cancellationToken).ConfigureAwait(false);
        return await SaveAsync("add_history", model, existing.Version, activity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The one stage sequence of a build and of an update (<paramref name="factorsOf"/> is the saved model an update adds
    /// to). Stage 1: the features of the new items (factor-aware in an update: tagged with the saved factors). Stage 1's
    /// judgments for generation tasks (stage 3's model part, rpm-method.md: which features shaped the text the user
    /// wrote; asked per item before the factors exist, from the item's own features). Stage 2: the factors over every
    /// item's features, in a build always, in an update when the share of unassigned new features exceeds
    /// <see cref="RpmOptions.FactorRebuildThreshold"/>. Stage 3: statistics, counted locally. Stage 4: a reasoning path
    /// per new item, or per item when the factors changed (stored paths cite the old ones). Then the retrieval keys of
    /// the paths without one.
    /// </summary>
    private async Task<(UserModel Model, ModelUsage Usage, BuildDiagnostics Diagnostics)> RunStagesAsync(
        string kind, string userId, RpmTask task, IReadOnlyList<HistoryItem> newItems, UserModel? factorsOf, Activity? activity, CancellationToken cancellationToken)
    {
        // Background work: transports may give its calls the patient retry profile (RpmStageCall.IsBuild).
        RpmStageCall.EnterBuild();
        BuildSession session = await BuildSession.OpenAsync(
            _checkpoints, userId, CheckpointKeys.Build(kind, task, _chatModelId, _options), _options.MaxConcurrency, cancellationToken).ConfigureAwait(false);
        _telemetry.Resumed(factorsOf is null ? "build" : "add_history", userId, session.SavedCount, activity);
        var run = new StageRunner(session, _telemetry, userId);

        List<ItemFeatures> extracted = await ExtractFeaturesAsync(run, task, newItems, factorsOf?.Statistics, cancellationToken).ConfigureAwait(false);
        if (factorsOf is null && extracted.Count == 0)
        {
            throw new RpmStageException(
                RpmStage.FeatureExtraction, userId, $"The model refused (or its content filter stopped) every history item of '{userId}', so no model can be built: {run.Diagnostics.ExclusionReason}") { Usage = run.Usage };
        }

        extracted = await JudgeInfluenceAsync(run, task, extracted, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<ReasoningPath> stored = factorsOf?.Paths ?? [];
        List<ItemFeatures> all = [.. stored.Select(p => new ItemFeatures(p.Item, p.Features)), .. extracted];

        IReadOnlyList<Factor> factors;
        bool constructed = factorsOf is null || FactorsMustBeRebuilt(userId, newItems.Count, extracted);
        if (constructed)
        {
            FactorAssignment assignment = await run.RunOnceAsync("factor_construction", all.Count, CheckpointKeys.Factors(all.Select(i => i.Item)), CheckpointFormat<FactorAssignment>.Factors, async () =>
            {
                FactorConstruction construction = await _factorConstructor.ConstructFactorsAsync(userId, task, all, cancellationToken).ConfigureAwait(false);
                _telemetry.FactorRules(userId, construction.Diagnostics);
                return new StageCheckpoint<FactorAssignment>
                {
                    Value = new FactorAssignment
                    {
                        Factors = [.. construction.Factors],
                        Items = construction.Items.ToDictionary(i => i.Item.Id, i => i.Features.ToList(), StringComparer.Ordinal),
                    },
                    Usage = construction.Usage,
                    Diagnostics = construction.Diagnostics,
                };
            }).ConfigureAwait(false);
            factors = assignment.Factors;
            all = [.. all.Select(i => new ItemFeatures(i.Item, assignment.Items.TryGetValue(i.Item.Id, out var f) ? f : i.Features))];
        }
        else
        {
            factors = [.. factorsOf!.Factors];
        }

        if (factorsOf is not null)
        {
            activity?.SetTag("rpm.factors_rebuilt", constructed);
        }

        IReadOnlyList<FactorStatistics> statistics = await run.RunLocalAsync(
            "statistics", all.Count, () => _statisticsBuilder.ComputeStatisticsAsync(task, factors, all, cancellationToken)).ConfigureAwait(false);

        // When the factors were (re)built, every stored path cites factors that no longer exist, so all paths are written
        // again against the new factors and statistics (one reasoning call per item, as in a build); their embeddings
        // stay, since the retrieval key is the features' names and contexts, not their factors.
        IReadOnlyList<ItemFeatures> toWrite = constructed ? all : [.. all.Skip(stored.Count)];
        List<ReasoningPath> written = await WritePathsAsync(run, task, toWrite, statistics, cancellationToken).ConfigureAwait(false);
        Dictionary<string, ReasoningPath> storedById = stored.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        List<ReasoningPath> unindexed = [.. written.Where(p => !storedById.ContainsKey(p.Item.Id))];
        var (indexed, embeddingModelId) = await run.RunLocalAsync("embeddings", unindexed.Count, () => IndexAsync(unindexed, cancellationToken)).ConfigureAwait(false);
        if (factorsOf?.EmbeddingModelId is { } storedModelId && embeddingModelId is not null && storedModelId != embeddingModelId)
        {
            throw new InvalidOperationException(
                $"The user model of '{userId}' was indexed with embedding model '{storedModelId}', but the retriever now uses '{embeddingModelId}'. Rebuild the model instead of adding history.");
        }

        // Every item in history order: a stored path kept as it is unless it was written again (then with its embedding);
        // after new factors, an item whose path could not be written again is left out, as in a build.
        Dictionary<string, ReasoningPath> byId = indexed.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        Dictionary<string, ReasoningPath> rewritten = written.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        List<ReasoningPath> paths = [.. all
            .Select(i => rewritten.TryGetValue(i.Item.Id, out ReasoningPath? path)
                ? storedById.TryGetValue(i.Item.Id, out ReasoningPath? old) ? path.WithEmbedding(old.Embedding) : byId[i.Item.Id]
                : constructed ? null : storedById.GetValueOrDefault(i.Item.Id))
            .OfType<ReasoningPath>()];

        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        var model = new UserModel(userId, task, statistics, paths)
        {
            ChatModelId = factorsOf?.ChatModelId ?? _chatModelId,
            EmbeddingModelId = factorsOf?.EmbeddingModelId ?? embeddingModelId,
            EmbeddingDimensions = factorsOf is { EmbeddingDimensions: not 0 } ? factorsOf.EmbeddingDimensions : (indexed.Count > 0 ? indexed[0].Embedding.Length : 0),
            CreatedAt = factorsOf?.CreatedAt ?? now,
            UpdatedAt = now,
            Version = factorsOf?.Version ?? 0,
            BuildUsage = (factorsOf?.BuildUsage ?? ModelUsage.None) + run.Usage,
            Diagnostics = (factorsOf?.Diagnostics ?? BuildDiagnostics.None) + run.Diagnostics,
        };
        return (model, run.Usage, run.Diagnostics);
    }

    private bool FactorsMustBeRebuilt(string userId, int newItems, List<ItemFeatures> extracted)
    {
        int newFeatureCount = extracted.Sum(i => i.Features.Count);
        int unassigned = extracted.Sum(i => i.Features.Count(f => f.IsUnassigned));
        bool rebuild = newFeatureCount > 0 && (double)unassigned / newFeatureCount > _options.FactorRebuildThreshold;
        if (rebuild)
        {
            _telemetry.FactorsRebuilt(userId, newItems, unassigned, newFeatureCount, _options.FactorRebuildThreshold);
        }

        return rebuild;
    }

    private async Task<UserModel> SaveAsync(string operation, (UserModel Model, ModelUsage Usage, BuildDiagnostics Diagnostics) built, long expectedVersion, Activity? activity, CancellationToken cancellationToken)
    {
        UserModel result = await _store.SaveAsync(built.Model, expectedVersion, cancellationToken).ConfigureAwait(false);
        await _checkpoints.ClearAsync(built.Model.UserId, CancellationToken.None).ConfigureAwait(false);
        _telemetry.Completed(operation, result, built.Usage, built.Diagnostics, activity);
        return result;
    }

    private async Task<List<ItemFeatures>> ExtractFeaturesAsync(
        StageRunner run, RpmTask task, IReadOnlyList<HistoryItem> items, IReadOnlyList<FactorStatistics>? factors, CancellationToken cancellationToken)
    {
        FeatureExtractionRequest Request(HistoryItem item) => new(task, item.Id, item.Input, item.Options, factors);

        StageCheckpoint<List<Feature>>[] results = await run.RunItemsAsync(
            "feature_extraction",
            items,
            CheckpointKeys.Features,
            CheckpointFormat<List<Feature>>.Features,
            _options.FeatureExtractionBatchSize,
            async (batch, ct) => [.. (await _featureExtractor.ExtractBatchAsync([.. batch.Select(Request)], ct).ConfigureAwait(false))
                .Select(r => new StageCheckpoint<List<Feature>> { Value = [.. r.Features], Usage = r.Usage, Diagnostics = r.Diagnostics })],
            (item, ex) => run.Exclude<List<Feature>>(item, ex, []),
            cancellationToken).ConfigureAwait(false);
        return [.. StageRunner.Kept(items, results).Select(x => new ItemFeatures(x.Item, x.Value))];
    }

    private async Task<List<ItemFeatures>> JudgeInfluenceAsync(StageRunner run, RpmTask task, List<ItemFeatures> items, CancellationToken cancellationToken)
    {
        if (task.Kind != RpmTaskKind.Generation || items.Count == 0)
        {
            return items;
        }

        StageCheckpoint<List<Feature>>[] results = await run.RunItemsAsync(
            "influence_judgment",
            items,
            i => CheckpointKeys.Judgment(i.Item),
            CheckpointFormat<List<Feature>>.Features,
            _options.InfluenceJudgmentBatchSize,
            async (batch, ct) =>
            {
                InfluenceJudgment judgment = await _influenceJudge.JudgeAsync(task, batch, ct).ConfigureAwait(false);
                return [.. judgment.Items.Select((item, i) => new StageCheckpoint<List<Feature>>
                {
                    Value = [.. item.Features],
                    Usage = i == 0 ? judgment.Usage : ModelUsage.None,
                    Diagnostics = i == 0 ? judgment.Diagnostics : BuildDiagnostics.None,
                })];
            },

            // A refused judgment leaves the item's influence unknown rather than dropping an item stage 1 accepted.
            (item, ex) => new StageCheckpoint<List<Feature>> { Value = [.. item.Features], Usage = ex.Usage, Diagnostics = new BuildDiagnostics { MissingJudgments = item.Features.Count } },
            cancellationToken).ConfigureAwait(false);
        return [.. items.Select((item, i) => new ItemFeatures(item.Item, results[i].Value))];
    }

    private async Task<List<ReasoningPath>> WritePathsAsync(
        StageRunner run, RpmTask task, IReadOnlyList<ItemFeatures> items, IReadOnlyList<FactorStatistics> statistics, CancellationToken cancellationToken)
    {
        ReasoningPathRequest Request(ItemFeatures item) => new(task, item.Item, item.Features, statistics);

        StageCheckpoint<string>[] results = await run.RunItemsAsync(
            "reasoning_path",
            items,
            i => CheckpointKeys.Reasoning(i.Item),
            CheckpointFormat<string>.Reasoning,
            _options.ReasoningBatchSize,
            async (batch, ct) => [.. (await _reasoningPathBuilder.BuildBatchAsync([.. batch.Select(Request)], ct).ConfigureAwait(false))
                .Select(r => new StageCheckpoint<string> { Value = r.Reasoning, Usage = r.Usage, Diagnostics = r.Diagnostics })],
            (item, ex) => run.Exclude(item.Item, ex, string.Empty),
            cancellationToken).ConfigureAwait(false);
        return [.. StageRunner.Kept(items, results).Select(x => new ReasoningPath(x.Item.Item, x.Item.Features, x.Value))];
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
}
