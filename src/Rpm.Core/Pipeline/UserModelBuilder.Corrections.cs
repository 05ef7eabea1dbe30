using System.Diagnostics;
using System.Globalization;

namespace Rpm;

/// <content>Removing and correcting single items of a saved model, every other reasoning path kept.</content>
internal sealed partial class UserModelBuilder
{
    /// <summary>Removes items (ids validated, at least one item left) and saves: no model call, the statistics counted again.</summary>
    public Task<UserModel> RemoveHistoryAsync(UserModel existing, IReadOnlySet<string> ids, CancellationToken cancellationToken) =>
        _telemetry.OperationAsync("rpm.remove_history", existing.UserId, _telemetry.Metrics.BuildDuration, _ => PipelineTelemetry.Operation("remove_history"), async activity =>
        {
            activity?.SetTag("rpm.removed_items", ids.Count);
            List<ReasoningPath> kept = [.. existing.Paths.Where(p => !ids.Contains(p.Item.Id))];
            IReadOnlyList<FactorStatistics> statistics = await _statisticsBuilder
                .ComputeStatisticsAsync(existing.Task, [.. existing.Factors], [.. kept.Select(p => new ItemFeatures(p.Item, p.Features))], cancellationToken)
                .ConfigureAwait(false);
            UserModel model = Changed(existing, statistics, kept, ModelUsage.None, BuildDiagnostics.None);
            return await SaveAsync("remove_history", (model, ModelUsage.None, BuildDiagnostics.None), existing.Version, activity, cancellationToken).ConfigureAwait(false);
        });

    /// <summary>
    /// Corrects items that differ from the saved ones (ids validated) and saves. Stage 1 again only for an item whose
    /// input or options changed (the others keep their features and retrieval key); stage 3's judgments again for a
    /// generation task; the statistics counted again; stage 4 again for each corrected item, since its path reasons
    /// toward the old answer. Checkpointed like an update.
    /// </summary>
    public Task<UserModel> CorrectHistoryAsync(UserModel existing, IReadOnlyList<HistoryItem> items, CancellationToken cancellationToken) =>
        _telemetry.OperationAsync("rpm.correct_history", existing.UserId, _telemetry.Metrics.BuildDuration, _ => PipelineTelemetry.Operation("correct_history"), activity =>
        {
            activity?.SetTag("rpm.corrected_items", items.Count);
            return CorrectCoreAsync(existing, items, activity, cancellationToken);
        });

    private async Task<UserModel> CorrectCoreAsync(UserModel existing, IReadOnlyList<HistoryItem> items, Activity? activity, CancellationToken cancellationToken)
    {
        string userId = existing.UserId;
        RpmTask task = existing.Task;
        RpmStageCall.EnterBuild();
        BuildSession session = await BuildSession.OpenAsync(
            _checkpoints, userId, CheckpointKeys.Build("correct:" + existing.Version.ToString(CultureInfo.InvariantCulture), task, _chatModelId, _options), _options.MaxConcurrency, cancellationToken).ConfigureAwait(false);
        _telemetry.Resumed("correct_history", userId, session.SavedCount, activity);
        var run = new StageRunner(session, _telemetry, userId);
        Dictionary<string, ReasoningPath> stored = existing.Paths.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);

        // Stage 1 reads the input (and a question's options) only: an item whose answer alone changed keeps its features.
        List<HistoryItem> reread = [.. items.Where(i => i.Input != stored[i.Id].Item.Input || !(i.Options ?? []).SequenceEqual(stored[i.Id].Item.Options ?? [], StringComparer.Ordinal))];
        Dictionary<string, ItemFeatures> extracted = (await ExtractFeaturesAsync(run, task, reread, existing.Statistics, cancellationToken).ConfigureAwait(false))
            .ToDictionary(i => i.Item.Id, StringComparer.Ordinal);
        var rereadIds = reread.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        List<ItemFeatures> corrected = [.. items
            .Select(i => rereadIds.Contains(i.Id) ? extracted.GetValueOrDefault(i.Id) : new ItemFeatures(i, stored[i.Id].Features))
            .OfType<ItemFeatures>()];
        corrected = await JudgeInfluenceAsync(run, task, corrected, cancellationToken).ConfigureAwait(false);

        var correctedIds = items.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        Dictionary<string, ItemFeatures> correctedById = corrected.ToDictionary(i => i.Item.Id, StringComparer.Ordinal);
        List<ItemFeatures> all = [.. existing.Paths
            .Select(p => correctedIds.Contains(p.Item.Id) ? correctedById.GetValueOrDefault(p.Item.Id) : new ItemFeatures(p.Item, p.Features))
            .OfType<ItemFeatures>()];
        IReadOnlyList<Factor> factors = [.. existing.Factors];
        IReadOnlyList<FactorStatistics> statistics = await run.RunLocalAsync(
            "statistics", all.Count, () => _statisticsBuilder.ComputeStatisticsAsync(task, factors, all, cancellationToken)).ConfigureAwait(false);

        List<ReasoningPath> written = await WritePathsAsync(run, task, corrected, statistics, cancellationToken).ConfigureAwait(false);
        List<ReasoningPath> unindexed = [.. written.Where(p => rereadIds.Contains(p.Item.Id))];
        var (indexed, embeddingModelId) = await run.RunLocalAsync("embeddings", unindexed.Count, () => IndexAsync(unindexed, cancellationToken)).ConfigureAwait(false);
        if (existing.EmbeddingModelId is { } storedModelId && embeddingModelId is not null && storedModelId != embeddingModelId)
        {
            throw new InvalidOperationException(
                $"The user model of '{userId}' was indexed with embedding model '{storedModelId}', but the retriever now uses '{embeddingModelId}'. Rebuild the model instead of correcting history.");
        }

        // Every item in history order: a corrected item with its new path (and its old embedding unless it was read
        // again), left out when its path could not be written; every other path as it was.
        Dictionary<string, ReasoningPath> reindexed = indexed.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        Dictionary<string, ReasoningPath> rewritten = written.ToDictionary(p => p.Item.Id, StringComparer.Ordinal);
        List<ReasoningPath> paths = [.. existing.Paths
            .Select(p => !correctedIds.Contains(p.Item.Id) ? p
                : reindexed.TryGetValue(p.Item.Id, out ReasoningPath? fresh) ? fresh
                : rewritten.TryGetValue(p.Item.Id, out ReasoningPath? path) && !rereadIds.Contains(p.Item.Id) ? path.WithEmbedding(p.Embedding)
                : null)
            .OfType<ReasoningPath>()];
        if (paths.Count == 0)
        {
            throw new RpmStageException(
                RpmStage.ReasoningPath, userId, $"The model refused every corrected item of '{userId}', and no other item is left: {run.Diagnostics.ExclusionReason}") { Usage = run.Usage };
        }

        UserModel model = Changed(existing, statistics, paths, run.Usage, run.Diagnostics);
        return await SaveAsync("correct_history", (model, run.Usage, run.Diagnostics), existing.Version, activity, cancellationToken).ConfigureAwait(false);
    }

    private UserModel Changed(UserModel existing, IReadOnlyList<FactorStatistics> statistics, IReadOnlyList<ReasoningPath> paths, ModelUsage usage, BuildDiagnostics diagnostics) =>
        new(existing.UserId, existing.Task, statistics, paths)
        {
            ChatModelId = existing.ChatModelId,
            EmbeddingModelId = existing.EmbeddingModelId,
            EmbeddingDimensions = existing.EmbeddingDimensions,
            CreatedAt = existing.CreatedAt,
            UpdatedAt = _options.TimeProvider.GetUtcNow(),
            Version = existing.Version,
            BuildUsage = existing.BuildUsage + usage,
            Diagnostics = existing.Diagnostics + diagnostics,
        };
}
