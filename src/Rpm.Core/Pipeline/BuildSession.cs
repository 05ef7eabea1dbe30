using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Rpm;

/// <summary>
/// The one checkpointed loop every stage of a build runs its model calls through: finished calls are read back from the
/// <see cref="IBuildCheckpointStore"/> and never paid again; the rest run up to <see cref="RpmOptions.MaxConcurrency"/> at
/// a time, in batches; every answer is checkpointed as it arrives, even while the build is being cancelled.
/// </summary>
internal sealed class BuildSession
{
    private readonly IBuildCheckpointStore _store;
    private readonly string _userId;
    private readonly string _buildKey;
    private readonly IReadOnlyDictionary<string, string> _saved;
    private readonly int _maxConcurrency;

    private BuildSession(IBuildCheckpointStore store, string userId, string buildKey, IReadOnlyDictionary<string, string> saved, int maxConcurrency)
    {
        _store = store;
        _userId = userId;
        _buildKey = buildKey;
        _saved = saved;
        _maxConcurrency = maxConcurrency;
    }

    /// <summary>Gets how many finished stage results an earlier run of this build left in the store.</summary>
    public int SavedCount => _saved.Count;

    public static async Task<BuildSession> OpenAsync(IBuildCheckpointStore store, string userId, string buildKey, int maxConcurrency, CancellationToken cancellationToken) =>
        new(store, userId, buildKey, await store.LoadAsync(userId, buildKey, cancellationToken).ConfigureAwait(false), maxConcurrency);

    /// <summary>Gets whether a finished call of this build is saved under the key (so it is not paid again).</summary>
    public bool IsSaved(string key) => _saved.ContainsKey(key);

    /// <summary>
    /// Runs one call per batch of items for every item without a checkpoint. A refusal or a filter stop is about an item's
    /// content: that item is left out (and checkpointed as such, so no re-run pays for it again); in a batch the item to
    /// blame is unknown, so each is asked on its own. Any other failure stops new calls from starting but never cancels
    /// calls in flight: they finish and are checkpointed, then the first failure in item order is rethrown. A deferred call
    /// (<see cref="RpmCallDeferredException"/>) is not a failure: every other item is still asked, so that one pass
    /// collects all of the stage's calls, and then one deferral for the stage is thrown.
    /// </summary>
    public async Task<StageCheckpoint<T>[]> RunItemsAsync<T>(
        int count,
        Func<int, string> key,
        CheckpointFormat<T> format,
        int batchSize,
        Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyList<StageCheckpoint<T>>>> callBatch,
        Func<int, CancellationToken, Task<StageCheckpoint<T>>> callOne,
        Func<int, RpmModelOutputException, StageCheckpoint<T>> excluded,
        CancellationToken cancellationToken)
    {
        var results = new StageCheckpoint<T>[count];
        var pending = new List<int>();
        for (int i = 0; i < count; i++)
        {
            if (_saved.TryGetValue(key(i), out string? json))
            {
                results[i] = format.Read(json, key(i));
            }
            else
            {
                pending.Add(i);
            }
        }

        List<List<int>> batches = [.. pending.Chunk(batchSize).Select(chunk => chunk.ToList())];
        var failures = new ConcurrentQueue<(int Order, ExceptionDispatchInfo Failure)>();
        int deferred = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, batches.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _maxConcurrency, CancellationToken = cancellationToken },
            async (b, _) =>
            {
                if (!failures.IsEmpty)
                {
                    return;
                }

                try
                {
                    List<int> batch = batches[b];
                    IReadOnlyList<StageCheckpoint<T>> answers = await CallAsync(batch, callBatch, callOne, excluded, cancellationToken).ConfigureAwait(false);
                    for (int j = 0; j < batch.Count; j++)
                    {
                        results[batch[j]] = answers[j];
                        await SaveAsync(key(batch[j]), format.Write(answers[j])).ConfigureAwait(false);
                    }
                }
                catch (RpmCallDeferredException ex)
                {
                    // Nothing was answered, so nothing is checkpointed; the batch's items are asked again on the next run.
                    Interlocked.Add(ref deferred, Math.Max(ex.DeferredCalls, 1));
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failures.Enqueue((b, ExceptionDispatchInfo.Capture(ex)));
                }
            }).ConfigureAwait(false);

        if (!failures.IsEmpty)
        {
            failures.OrderBy(f => f.Order).First().Failure.Throw();
        }

        if (deferred > 0)
        {
            throw Deferred(deferred);
        }

        return results;
    }

    /// <summary>Returns a stage's checkpointed result, or runs the stage and checkpoints its result.</summary>
    public async Task<StageCheckpoint<T>> GetOrRunAsync<T>(string key, CheckpointFormat<T> format, Func<Task<StageCheckpoint<T>>> run)
    {
        if (_saved.TryGetValue(key, out string? json))
        {
            return format.Read(json, key);
        }

        StageCheckpoint<T> result;
        try
        {
            result = await run().ConfigureAwait(false);
        }
        catch (RpmCallDeferredException ex)
        {
            throw Deferred(ex.DeferredCalls);
        }

        await SaveAsync(key, format.Write(result)).ConfigureAwait(false);
        return result;
    }

    private static async Task<IReadOnlyList<StageCheckpoint<T>>> CallAsync<T>(
        List<int> batch,
        Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyList<StageCheckpoint<T>>>> callBatch,
        Func<int, CancellationToken, Task<StageCheckpoint<T>>> callOne,
        Func<int, RpmModelOutputException, StageCheckpoint<T>> excluded,
        CancellationToken cancellationToken)
    {
        try
        {
            return batch.Count == 1 ? [await callOne(batch[0], cancellationToken).ConfigureAwait(false)] : await callBatch(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (RpmModelOutputException ex) when (IsContentJudgment(ex))
        {
            if (batch.Count == 1)
            {
                return [excluded(batch[0], ex)];
            }

            var answers = new StageCheckpoint<T>[batch.Count];
            for (int j = 0; j < batch.Count; j++)
            {
                try
                {
                    answers[j] = await callOne(batch[j], cancellationToken).ConfigureAwait(false);
                }
                catch (RpmModelOutputException single) when (IsContentJudgment(single))
                {
                    answers[j] = excluded(batch[j], single);
                }
            }

            // The refused batch call was paid for too; its cost goes with the first item.
            answers[0] = answers[0].WithAddedUsage(ex.Usage);
            return answers;
        }
    }

    private RpmCallDeferredException Deferred(int calls) => new(
        $"{calls} model call(s) of the build of '{_userId}' are waiting for an answer; run the build again once they are answered (finished calls are checkpointed and not paid again).",
        Math.Max(calls, 1));

    private static bool IsContentJudgment(RpmModelOutputException ex) => ex.Failure is ModelOutputFailure.Refused or ModelOutputFailure.ContentFiltered;

    // A call that succeeded is paid for: its result is kept even when the build is being cancelled (by the caller, or
    // because a sibling call failed), so the next run does not pay for it again.
    private Task SaveAsync(string key, string value) => _store.SaveAsync(_userId, _buildKey, key, value, CancellationToken.None);
}
