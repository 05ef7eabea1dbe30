using System.Collections.Concurrent;

namespace Rpm;

/// <summary>
/// Queues builds of user models for <see cref="RpmBuildService"/> (registered by <c>AddBackgroundBuilds()</c>):
/// enqueueing returns at once with a job to poll; a second request for the same user and history joins the first job.
/// </summary>
/// <remarks>The type is thread-safe. Jobs are kept by the registered <see cref="IRpmBuildJobStore"/> (in memory, or the SQLite file).</remarks>
public sealed class RpmBuildQueue
{
    private readonly IRpmBuildJobStore _jobs;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RpmBuildJob>> _waiters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _work = new(0);
    private readonly ConcurrentDictionary<string, RpmBuildProgress> _progress = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="RpmBuildQueue"/> class.</summary>
    /// <param name="jobs">Where jobs are kept.</param>
    /// <exception cref="ArgumentNullException"><paramref name="jobs"/> is <see langword="null"/>.</exception>
    public RpmBuildQueue(IRpmBuildJobStore jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        _jobs = jobs;
    }

    /// <summary>Gets where jobs are kept.</summary>
    public IRpmBuildJobStore Jobs => _jobs;

    /// <summary>Queues a build of a user's model, or joins the user's pending or running job for the same task and history.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history; ids unique, outputs valid for the task.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job (pending, or already running when joined).</returns>
    /// <exception cref="ArgumentException">The user id is blank, the history is empty, or an item is invalid (the item is named).</exception>
    /// <exception cref="RpmStoreException">The job store cannot be reached.</exception>
    public async Task<RpmBuildJob> EnqueueAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history, CancellationToken cancellationToken = default)
    {
        var request = new RpmBuildRequest(userId, task, history);
        RpmBuildJob job = await _jobs.EnqueueAsync(request, cancellationToken).ConfigureAwait(false);
        Signal();
        return job;
    }

    /// <summary>Gets a job's state.</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job, or <see langword="null"/> when there is none with that id (or its user was erased).</returns>
    /// <exception cref="ArgumentException"><paramref name="jobId"/> is blank.</exception>
    public Task<RpmBuildJob?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return WithProgressAsync(_jobs.GetAsync(jobId, cancellationToken));
    }

    /// <summary>
    /// Waits until a job has succeeded or failed: in this process's service, or, with a store whose workers are shared
    /// by several hosts (<see cref="IRpmBuildJobRunner"/>), on whichever host builds it (read again every second).
    /// </summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The finished job.</returns>
    /// <exception cref="ArgumentException"><paramref name="jobId"/> is blank.</exception>
    /// <exception cref="InvalidOperationException">There is no job with that id (or its user was erased).</exception>
    public async Task<RpmBuildJob> WaitAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (_jobs is IRpmBuildJobRunner)
        {
            while (true)
            {
                RpmBuildJob current = await _jobs.GetAsync(jobId, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"There is no build job '{jobId}' (or its user was erased).");
                if (current.State is RpmBuildJobState.Succeeded or RpmBuildJobState.Failed)
                {
                    return current;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }

        TaskCompletionSource<RpmBuildJob> waiter = _waiters.GetOrAdd(jobId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        RpmBuildJob job = await _jobs.GetAsync(jobId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"There is no build job '{jobId}'.");
        if (job.State is RpmBuildJobState.Succeeded or RpmBuildJobState.Failed)
        {
            return job;
        }

        return await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Erases a user: deletes the user's build jobs (with their queued history), then erases what the pipeline keeps
    /// (<see cref="RpmPipeline.EraseUserAsync"/>: model, checkpoints, in-memory models and personalizations), after a
    /// build of the user in flight in this process has ended.
    /// </summary>
    /// <param name="pipeline">The pipeline whose data of the user is erased.</param>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns><see langword="true"/> when anything of the user was erased (a job, queued or running, or a saved model); <see langword="false"/> when RPM kept nothing of the user.</returns>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is blank.</exception>
    /// <exception cref="RpmStoreException">A store cannot be reached; run the call again (it is idempotent).</exception>
    public async Task<bool> EraseUserAsync(RpmPipeline pipeline, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);

        // Jobs first: a pending job must not start and save the model again once it is erased.
        int jobs = await _jobs.DeleteUserAsync(userId, cancellationToken).ConfigureAwait(false);
        return await pipeline.EraseUserAsync(userId, cancellationToken).ConfigureAwait(false) || jobs > 0;
    }

    internal void Signal() => _work.Release();

    /// <summary>Records a running job's progress, from the stage reports of its build (items done and in all per stage).</summary>
    internal void ReportProgress(RpmBuildJob job, RpmBuildRequest request, string stage, int completed, int total)
    {
        // The model work a build of N items asks for, in items: stage 1 and stage 4 per item, one factor construction,
        // and per-item influence judgments for a generation task; the local stages (statistics, embeddings) count none.
        int n = request.History.Count;
        int planned = (2 * n) + 1 + (request.Task.Kind == RpmTaskKind.Generation ? n : 0);
        int before = stage switch
        {
            "feature_extraction" => 0,
            "influence_judgment" => n,
            "factor_construction" => request.Task.Kind == RpmTaskKind.Generation ? 2 * n : n,
            "statistics" => planned - n,
            "reasoning_path" => planned - n,
            _ => planned,
        };
        bool local = stage is "statistics" or "embeddings";
        double fraction = Math.Clamp((before + (local ? 0 : Math.Min(completed, total))) / (double)Math.Max(planned, 1), 0, 1);
        var next = new RpmBuildProgress(stage, Math.Min(completed, total), total, fraction);

        // Batches answer concurrently, so reports of one stage can arrive out of order: never step back.
        _progress.AddOrUpdate(job.Id, next, (_, current) => current.Stage == stage && current.Completed > next.Completed ? current : next);
    }

    internal void ForgetProgress(string jobId) => _progress.TryRemove(jobId, out _);

    private async Task<RpmBuildJob?> WithProgressAsync(Task<RpmBuildJob?> read)
    {
        RpmBuildJob? job = await read.ConfigureAwait(false);
        return job is { State: RpmBuildJobState.Running } && _progress.TryGetValue(job.Id, out RpmBuildProgress? progress)
            ? new RpmBuildJob(job.Id, job.UserId, job.State, job.HistoryCount, job.EnqueuedAt)
            {
                StartedAt = job.StartedAt,
                FinishedAt = job.FinishedAt,
                ModelVersion = job.ModelVersion,
                Error = job.Error,
                Attempts = job.Attempts,
                Progress = progress,
            }
            : job;
    }

    internal Task WaitForWorkAsync(CancellationToken cancellationToken) => _work.WaitAsync(cancellationToken);

    internal async Task FinishedAsync(string jobId, CancellationToken cancellationToken)
    {
        if (_waiters.TryRemove(jobId, out TaskCompletionSource<RpmBuildJob>? waiter))
        {
            RpmBuildJob? job = await _jobs.GetAsync(jobId, cancellationToken).ConfigureAwait(false);
            if (job is null)
            {
                waiter.TrySetException(new InvalidOperationException($"The build job '{jobId}' was deleted (its user was erased)."));
            }
            else
            {
                waiter.TrySetResult(job);
            }
        }
    }
}
