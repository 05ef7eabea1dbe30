namespace Rpm;

/// <summary>
/// What every stage of a build repeats, done once: the stage's span (<c>rpm.&lt;stage&gt;</c>), its calls through the
/// checkpointed <see cref="BuildSession"/> (batched, resumed, items the model refuses left out and reported once), and
/// the ledger of the build's usage and diagnostics, summed here rather than after each stage by hand.
/// </summary>
internal sealed class StageRunner
{
    private readonly BuildSession _session;
    private readonly PipelineTelemetry _telemetry;
    private readonly string _userId;

    public StageRunner(BuildSession session, PipelineTelemetry telemetry, string userId)
    {
        _session = session;
        _telemetry = telemetry;
        _userId = userId;
    }

    /// <summary>Gets what the build's model calls cost so far, read-back checkpoints included.</summary>
    public ModelUsage Usage { get; private set; } = ModelUsage.None;

    /// <summary>Gets what the build degraded or left out so far.</summary>
    public BuildDiagnostics Diagnostics { get; private set; } = BuildDiagnostics.None;

    /// <summary>
    /// Runs a per-item stage: one call per batch of <paramref name="batchSize"/> items without a checkpoint (a batch of one
    /// is the one-item call), each result checkpointed as it arrives. <paramref name="refused"/> says what an item the
    /// model refused becomes; by default it is left out (<see cref="Exclude"/>).
    /// </summary>
    /// <returns>One checkpoint per item, in order.</returns>
    public async Task<StageCheckpoint<T>[]> RunItemsAsync<TItem, T>(
        string stage,
        IReadOnlyList<TItem> items,
        Func<TItem, string> key,
        CheckpointFormat<T> format,
        int batchSize,
        Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<StageCheckpoint<T>>>> call,
        Func<TItem, RpmModelOutputException, StageCheckpoint<T>> refused,
        CancellationToken cancellationToken)
    {
        // Progress in items: those a checkpoint already answers, then each answered batch (BuildProgress, for a job's poller).
        int completed = items.Count(item => _session.IsSaved(key(item)));
        BuildProgress.Report(stage, completed, items.Count);
        async Task<IReadOnlyList<StageCheckpoint<T>>> Answered(IReadOnlyList<TItem> batch, CancellationToken ct)
        {
            IReadOnlyList<StageCheckpoint<T>> answers = await call(batch, ct).ConfigureAwait(false);
            BuildProgress.Report(stage, Interlocked.Add(ref completed, batch.Count), items.Count);
            return answers;
        }

        StageCheckpoint<T>[] results = await _telemetry.StageAsync(stage, _userId, items.Count, () => _session.RunItemsAsync(
            items.Count,
            i => key(items[i]),
            format,
            batchSize,
            (batch, ct) => Answered([.. batch.Select(i => items[i])], ct),
            async (i, ct) => (await Answered([items[i]], ct).ConfigureAwait(false))[0],
            (i, ex) => refused(items[i], ex),
            cancellationToken)).ConfigureAwait(false);

        foreach (StageCheckpoint<T> result in results)
        {
            Usage += result.Usage;
            Diagnostics += result.Diagnostics + (result.Excluded is null ? BuildDiagnostics.None : new BuildDiagnostics { ItemsExcluded = 1, ExclusionReason = result.Excluded });
        }

        return results;
    }

    /// <summary>Runs a stage with one call for the whole user (stage 2), checkpointed under <paramref name="key"/>.</summary>
    public async Task<T> RunOnceAsync<T>(string stage, int items, string key, CheckpointFormat<T> format, Func<Task<StageCheckpoint<T>>> run)
    {
        BuildProgress.Report(stage, 0, 1);
        StageCheckpoint<T> result = await _telemetry.StageAsync(stage, _userId, items, () => _session.GetOrRunAsync(key, format, run)).ConfigureAwait(false);
        BuildProgress.Report(stage, 1, 1);
        Usage += result.Usage;
        Diagnostics += result.Diagnostics;
        return result.Value;
    }

    /// <summary>Runs a stage that calls no chat model (statistics, embeddings): its span only.</summary>
    public async Task<T> RunLocalAsync<T>(string stage, int items, Func<Task<T>> run)
    {
        BuildProgress.Report(stage, 0, items);
        T result = await _telemetry.StageAsync(stage, _userId, items, run).ConfigureAwait(false);
        BuildProgress.Report(stage, items, items);
        return result;
    }

    /// <summary>
    /// Leaves an item out of the model because the model refused it or a filter stopped it. Called only when the call that
    /// excluded it was just made (not read back from a checkpoint), so it is reported once.
    /// </summary>
    public StageCheckpoint<T> Exclude<T>(HistoryItem item, RpmModelOutputException ex, T value)
    {
        string reason = (ex.Failure == ModelOutputFailure.Refused ? "the model refused: " : "the content filter stopped it: ") + ex.Error;
        _telemetry.Excluded(_userId, item.Id, ex.Stage, reason);
        return new StageCheckpoint<T> { Value = value, Usage = ex.Usage, Excluded = $"item '{item.Id}' at {ex.Stage}: {reason}" };
    }

    /// <summary>Keeps a stage's results in item order, without the items left out.</summary>
    public static IEnumerable<(TItem Item, T Value)> Kept<TItem, T>(IReadOnlyList<TItem> items, StageCheckpoint<T>[] results) =>
        items.Select((item, i) => (item, results[i])).Where(x => x.Item2.Excluded is null).Select(x => (x.item, x.Item2.Value));
}
