using System.Diagnostics;
using Rpm.Simd;

namespace Rpm;

/// <summary>
/// Builds and updates user models: stage 1 (features per item), stage 2 (factors), stage 3 (statistics), stage 4 (a
/// reasoning path per item) and the retrieval index, every model call through one checkpointed <see cref="BuildSession"/>.
/// </summary>
internal sealed class UserModelBuilder
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
        // Background work: transports may give its calls the patient retry profile (RpmStageCall.IsBuild).
        RpmStageCall.EnterBuild();
        UserModel? existing = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        BuildSession session = await OpenSessionAsync("build", userId, task, activity, cancellationToken).ConfigureAwait(false);

        // Stage 1: features of every history item (items the model refuses are left out).
        var (withFeatures, usage, diagnostics) = await _telemetry.StageAsync(
            "feature_extraction", userId, items.Count, () => ExtractFeaturesAsync(session, userId, task, items, factors: null, cancellationToken)).ConfigureAwait(false);
        if (withFeatures.Count == 0)
        {
            throw new RpmStageException(
                RpmStage.FeatureExtraction, userId, $"The model refused (or its content filter stopped) every history item of '{userId}', so no model can be built: {diagnostics.ExclusionReason}") { Usage = usage };
        }

        // Stage 3's model judgments (generation tasks): which features shaped the text the user wrote.
        (withFeatures, ModelUsage judgmentUsage, BuildDiagnostics judgmentDiagnostics) = await JudgeAsync(session, userId, task, withFeatures, cancellationToken).ConfigureAwait(false);
        usage += judgmentUsage;
        diagnostics += judgmentDiagnostics;

        // Stage 2: factors over all of the user's features.
        FactorCheckpoint factors = await _telemetry.StageAsync(
            "factor_construction", userId, withFeatures.Count, () => ConstructFactorsAsync(session, userId, task, withFeatures, cancellationToken)).ConfigureAwait(false);
        usage += factors.Usage;
        diagnostics += factors.Diagnostics;
        IReadOnlyList<ItemFeatures> assigned = [.. withFeatures.Select(i => new ItemFeatures(i.Item, factors.Items.TryGetValue(i.Item.Id, out var f) ? f : []))];

        // Stage 3: statistics, counted locally.
        var statistics = await _telemetry.StageAsync("statistics", userId, assigned.Count, () => _statisticsBuilder.ComputeStatisticsAsync(task, factors.Factors, assigned, cancellationToken)).ConfigureAwait(false);

        // Stage 4 and the retrieval keys.
        var (paths, reasoningUsage, reasoningDiagnostics) = await _telemetry.StageAsync(
            "reasoning_path", userId, assigned.Count, () => WritePathsAsync(session, userId, task, assigned, statistics, cancellationToken)).ConfigureAwait(false);
        usage += reasoningUsage;
        diagnostics += reasoningDiagnostics;
        var (indexed, embeddingModelId) = await _telemetry.StageAsync("embeddings", userId, paths.Count, () => IndexAsync(paths, cancellationToken)).ConfigureAwait(false);

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
        await session.ClearAsync().ConfigureAwait(false);
        _telemetry.Completed("build", result, usage, diagnostics, activity);
        return result;
    }

    private async Task<UserModel> AddHistoryCoreAsync(UserModel existing, IReadOnlyList<HistoryItem> items, Activity? activity, CancellationToken cancellationToken)
    {
        RpmStageCall.EnterBuild();
        string userId = existing.UserId;
        RpmTask task = existing.Task;
        string kind = "update:" + existing.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        BuildSession session = await OpenSessionAsync(kind, userId, task, activity, cancellationToken).ConfigureAwait(false);

        // New items' features, tagged with the existing factors (factor-aware extraction).
        var (newFeatures, usage, diagnostics) = await _telemetry.StageAsync(
            "feature_extraction", userId, items.Count, () => ExtractFeaturesAsync(session, userId, task, items, existing.Statistics, cancellationToken)).ConfigureAwait(false);
        (newFeatures, ModelUsage judgmentUsage, BuildDiagnostics judgmentDiagnostics) = await JudgeAsync(session, userId, task, newFeatures, cancellationToken).ConfigureAwait(false);
        usage += judgmentUsage;
        diagnostics += judgmentDiagnostics;

        List<ItemFeatures> all = [.. existing.Paths.Select(p => new ItemFeatures(p.Item, p.Features)), .. newFeatures];
        IReadOnlyList<Factor> factors = [.. existing.Factors];
        int newFeatureCount = newFeatures.Sum(i => i.Features.Count);
        int unassigned = newFeatures.Sum(i => i.Features.Count(f => f.IsUnassigned));
        bool rebuild = newFeatureCount > 0 && (double)unassigned / newFeatureCount > _options.FactorRebuildThreshold;
        activity?.SetTag("rpm.factors_rebuilt", rebuild);
        if (rebuild)
        {
            _telemetry.FactorsRebuilt(userId, items.Count, unassigned, newFeatureCount, _options.FactorRebuildThreshold);
            FactorCheckpoint rebuilt = await _telemetry.StageAsync(
                "factor_construction", userId, all.Count, () => ConstructFactorsAsync(session, userId, task, all, cancellationToken)).ConfigureAwait(false);
            usage += rebuilt.Usage;
            diagnostics += rebuilt.Diagnostics;
            factors = rebuilt.Factors;
            all = [.. all.Select(i => new ItemFeatures(i.Item, rebuilt.Items.TryGetValue(i.Item.Id, out var f) ? f : i.Features))];
        }

        var statistics = await _telemetry.StageAsync("statistics", userId, all.Count, () => _statisticsBuilder.ComputeStatisticsAsync(task, factors, all, cancellationToken)).ConfigureAwait(false);

        // Reasoning paths for the new items. When the factors were rebuilt, every stored path cites factors that no longer
        // exist, so all paths are written again against the new factors and statistics (one reasoning call per item, as
        // in a build); their embeddings stay, since the retrieval key is the features' names and contexts, not their factors.
        IReadOnlyList<ItemFeatures> toWrite = rebuild ? all : [.. all.Skip(existing.Paths.Count)];
        var (written, reasoningUsage, reasoningDiagnostics) = await _telemetry.StageAsync(
            "reasoning_path", userId, toWrite.Count, () => WritePathsAsync(session, userId, task, toWrite, statistics, cancellationToken)).ConfigureAwait(false);
        usage += reasoningUsage;
        diagnostics += reasoningDiagnostics;
        Dictionary<string, ReasoningPath> stored = existing.Paths.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        List<ReasoningPath> newPaths = [.. written.Where(p => !stored.ContainsKey(p.Item.Id))];
        var (indexedNew, embeddingModelId) = await _telemetry.StageAsync("embeddings", userId, newPaths.Count, () => IndexAsync(newPaths, cancellationToken)).ConfigureAwait(false);
        if (existing.EmbeddingModelId is not null && embeddingModelId is not null && existing.EmbeddingModelId != embeddingModelId)
        {
            throw new InvalidOperationException(
                $"The user model of '{userId}' was indexed with embedding model '{existing.EmbeddingModelId}', but the retriever now uses '{embeddingModelId}'. Rebuild the model instead of adding history.");
        }

        List<ReasoningPath> paths;
        if (rebuild)
        {
            Dictionary<string, ReasoningPath> indexed = indexedNew.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
            paths = [.. written.Select(p => stored.TryGetValue(p.Item.Id, out ReasoningPath? old) ? p.WithEmbedding(old.Embedding) : indexed[p.Item.Id])];
        }
        else
        {
            paths = [.. existing.Paths, .. indexedNew];
        }

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
        await session.ClearAsync().ConfigureAwait(false);
        _telemetry.Completed("add_history", result, usage, diagnostics, activity);
        return result;
    }

    /// <summary>Opens the build's checkpointed session and reports a resume: what it finds was paid for by an earlier run.</summary>
    private async Task<BuildSession> OpenSessionAsync(string kind, string userId, RpmTask task, Activity? activity, CancellationToken cancellationToken)
    {
        BuildSession session = await BuildSession.OpenAsync(
            _checkpoints, userId, CheckpointKeys.Build(kind, task, _chatModelId, _options), _options.MaxConcurrency, cancellationToken).ConfigureAwait(false);
        _telemetry.Resumed(kind == "build" ? "build" : "add_history", userId, session.SavedCount, activity);
        return session;
    }

    private async Task<(List<ItemFeatures> Items, ModelUsage Usage, BuildDiagnostics Diagnostics)> ExtractFeaturesAsync(
        BuildSession session, string userId, RpmTask task, IReadOnlyList<HistoryItem> items, IReadOnlyList<FactorStatistics>? factors, CancellationToken cancellationToken)
    {
        FeatureExtractionRequest Request(int i) => new(task, items[i].Id, items[i].Input)
        {
            Options = items[i].Options,
            Factors = factors,
        };

        static FeatureCheckpoint Checkpoint(FeatureExtractionResult r) => new() { Features = [.. r.Features], Usage = r.Usage, Diagnostics = r.Diagnostics };

        FeatureCheckpoint[] results = await session.RunItemsAsync(
            items.Count,
            i => CheckpointKeys.Features(items[i]),
            RpmJsonContext.Default.FeatureCheckpoint,
            _options.FeatureExtractionBatchSize,
            async (batch, ct) => [.. (await _featureExtractor.ExtractBatchAsync([.. batch.Select(Request)], ct).ConfigureAwait(false)).Select(Checkpoint)],
            async (i, ct) => Checkpoint(await _featureExtractor.ExtractAsync(Request(i), ct).ConfigureAwait(false)),
            (i, ex) => new FeatureCheckpoint { Features = [], Usage = ex.Usage, Excluded = Exclude(userId, items[i], ex) },
            cancellationToken).ConfigureAwait(false);

        return ([.. items.Select((item, i) => (item, i)).Where(x => results[x.i].Excluded is null).Select(x => new ItemFeatures(x.item, results[x.i].Features))], Sum(results), Diagnose(results));
    }

    private Task<(List<ItemFeatures> Items, ModelUsage Usage, BuildDiagnostics Diagnostics)> JudgeAsync(
        BuildSession session, string userId, RpmTask task, List<ItemFeatures> items, CancellationToken cancellationToken) =>
        task.Kind != RpmTaskKind.Generation || items.Count == 0
            ? Task.FromResult((items, ModelUsage.None, BuildDiagnostics.None))
            : _telemetry.StageAsync("influence_judgment", userId, items.Count, () => JudgeInfluenceAsync(session, task, items, cancellationToken));

    private async Task<(List<ItemFeatures> Items, ModelUsage Usage, BuildDiagnostics Diagnostics)> JudgeInfluenceAsync(
        BuildSession session, RpmTask task, List<ItemFeatures> items, CancellationToken cancellationToken)
    {
        if (task.Kind != RpmTaskKind.Generation || items.Count == 0)
        {
            return (items, ModelUsage.None, BuildDiagnostics.None);
        }

        static JudgmentCheckpoint[] Checkpoints(InfluenceJudgment judgment) =>
            [.. judgment.Items.Select((item, i) => new JudgmentCheckpoint
            {
                Features = [.. item.Features],
                Usage = i == 0 ? judgment.Usage : ModelUsage.None,
                Diagnostics = i == 0 ? judgment.Diagnostics : BuildDiagnostics.None,
            })];

        JudgmentCheckpoint[] results = await session.RunItemsAsync(
            items.Count,
            i => CheckpointKeys.Judgment(items[i].Item),
            RpmJsonContext.Default.JudgmentCheckpoint,
            _options.InfluenceJudgmentBatchSize,
            async (batch, ct) => Checkpoints(await _influenceJudge.JudgeAsync(task, [.. batch.Select(i => items[i])], ct).ConfigureAwait(false)),
            async (i, ct) => Checkpoints(await _influenceJudge.JudgeAsync(task, [items[i]], ct).ConfigureAwait(false))[0],

            // A refused judgment leaves the item's influence unknown rather than dropping an item stage 1 accepted.
            (i, ex) => new JudgmentCheckpoint { Features = [.. items[i].Features], Usage = ex.Usage, Diagnostics = new BuildDiagnostics { MissingJudgments = items[i].Features.Count } },
            cancellationToken).ConfigureAwait(false);

        return ([.. items.Select((item, i) => new ItemFeatures(item.Item, results[i].Features))], Sum(results), Diagnose(results));
    }

    private Task<FactorCheckpoint> ConstructFactorsAsync(BuildSession session, string userId, RpmTask task, IReadOnlyList<ItemFeatures> items, CancellationToken cancellationToken) =>
        session.GetOrRunAsync(CheckpointKeys.Factors(items.Select(i => i.Item)), RpmJsonContext.Default.FactorCheckpoint, async () =>
        {
            FactorConstruction construction = await _factorConstructor.ConstructFactorsAsync(userId, task, items, cancellationToken).ConfigureAwait(false);
            _telemetry.FactorRules(userId, construction.Diagnostics);
            return new FactorCheckpoint
            {
                Factors = [.. construction.Factors],
                Items = construction.Items.ToDictionary(i => i.Item.Id, i => i.Features.ToList(), StringComparer.Ordinal),
                Usage = construction.Usage,
                Diagnostics = construction.Diagnostics,
            };
        });

    private async Task<(List<ReasoningPath> Paths, ModelUsage Usage, BuildDiagnostics Diagnostics)> WritePathsAsync(
        BuildSession session, string userId, RpmTask task, IReadOnlyList<ItemFeatures> items, IReadOnlyList<FactorStatistics> statistics, CancellationToken cancellationToken)
    {
        ReasoningPathRequest Request(int i) => new(task, items[i].Item, items[i].Features, statistics);

        static ReasoningCheckpoint Checkpoint(ReasoningPathResult r) => new() { Reasoning = r.Reasoning, Usage = r.Usage, Diagnostics = r.Diagnostics };

        ReasoningCheckpoint[] results = await session.RunItemsAsync(
            items.Count,
            i => CheckpointKeys.Reasoning(items[i].Item),
            RpmJsonContext.Default.ReasoningCheckpoint,
            _options.ReasoningBatchSize,
            async (batch, ct) => [.. (await _reasoningPathBuilder.BuildBatchAsync([.. batch.Select(Request)], ct).ConfigureAwait(false)).Select(Checkpoint)],
            async (i, ct) => Checkpoint(await _reasoningPathBuilder.BuildAsync(Request(i), ct).ConfigureAwait(false)),
            (i, ex) => new ReasoningCheckpoint { Reasoning = string.Empty, Usage = ex.Usage, Excluded = Exclude(userId, items[i].Item, ex) },
            cancellationToken).ConfigureAwait(false);

        return ([.. items.Select((item, i) => (item, i)).Where(x => results[x.i].Excluded is null).Select(x => new ReasoningPath(x.item.Item, x.item.Features, results[x.i].Reasoning))], Sum(results), Diagnose(results));
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

    private static ModelUsage Sum<T>(T[] results)
        where T : IItemCheckpoint<T> => results.Aggregate(ModelUsage.None, (sum, r) => sum + r.Usage);

    private static BuildDiagnostics Diagnose<T>(T[] results)
        where T : IItemCheckpoint<T> =>
        results.Aggregate(BuildDiagnostics.None, (sum, r) => sum + r.Diagnostics + (r.Excluded is null ? BuildDiagnostics.None : new BuildDiagnostics { ItemsExcluded = 1, ExclusionReason = r.Excluded }));

    // Called only when the call that excluded the item was just made (not read back from a checkpoint): reported once.
    private string Exclude(string userId, HistoryItem item, RpmModelOutputException ex)
    {
        string reason = (ex.Failure == ModelOutputFailure.Refused ? "the model refused: " : "the content filter stopped it: ") + ex.Error;
        _telemetry.Excluded(userId, item.Id, ex.Stage, reason);
        return $"item '{item.Id}' at {ex.Stage}: {reason}";
    }
}
