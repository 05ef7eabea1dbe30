using System.Globalization;

namespace Rpm;

/// <summary>Keeps background build jobs in memory: lost when the process ends (use the SQLite store to keep them).</summary>
public sealed class InMemoryBuildJobStore : IRpmBuildJobStore
{
    private readonly Lock _lock = new();
    private readonly List<Entry> _jobs = [];
    private readonly TimeProvider _time;
    private long _next;

    /// <summary>Initializes a new instance of the <see cref="InMemoryBuildJobStore"/> class.</summary>
    /// <param name="timeProvider">The clock for the jobs' times, or <see langword="null"/> for the system clock.</param>
    public InMemoryBuildJobStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public Task<RpmBuildJob> EnqueueAsync(RpmBuildRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            Entry? same = _jobs.Find(e => e.Request.UserId == request.UserId && e.Request.WorkKey == request.WorkKey
                && e.Job.State is RpmBuildJobState.Pending or RpmBuildJobState.Running);
            if (same is not null)
            {
                return Task.FromResult(same.Job);
            }

            var job = new RpmBuildJob((++_next).ToString(CultureInfo.InvariantCulture), request.UserId, RpmBuildJobState.Pending, request.History.Count, _time.GetUtcNow());
            _jobs.Add(new Entry(request) { Job = job });
            return Task.FromResult(job);
        }
    }

    /// <inheritdoc />
    public Task<RpmBuildJob?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        lock (_lock)
        {
            return Task.FromResult(_jobs.Find(e => e.Job.Id == jobId)?.Job);
        }
    }

    /// <inheritdoc />
    public Task<(RpmBuildJob Job, RpmBuildRequest Request)?> TryStartNextAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            // One running job per user: a user's later job waits for the earlier one.
            Entry? next = _jobs.Find(e => e.Job.State == RpmBuildJobState.Pending
                && !_jobs.Exists(r => r.Job.State == RpmBuildJobState.Running && r.Request.UserId == e.Request.UserId));
            if (next is null)
            {
                return Task.FromResult<(RpmBuildJob, RpmBuildRequest)?>(null);
            }

            RpmBuildJob job = next.Job;
            next.Job = new RpmBuildJob(job.Id, job.UserId, RpmBuildJobState.Running, job.HistoryCount, job.EnqueuedAt) { StartedAt = _time.GetUtcNow(), Attempts = job.Attempts + 1 };
            return Task.FromResult<(RpmBuildJob, RpmBuildRequest)?>((next.Job, next.Request));
        }
    }

    /// <inheritdoc />
    public Task CompleteAsync(string jobId, long modelVersion, CancellationToken cancellationToken = default) =>
        Finish(jobId, job => new RpmBuildJob(job.Id, job.UserId, RpmBuildJobState.Succeeded, job.HistoryCount, job.EnqueuedAt)
        {
            StartedAt = job.StartedAt, Attempts = job.Attempts, FinishedAt = _time.GetUtcNow(), ModelVersion = modelVersion,
        });

    /// <inheritdoc />
    public Task FailAsync(string jobId, string error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Finish(jobId, job => new RpmBuildJob(job.Id, job.UserId, RpmBuildJobState.Failed, job.HistoryCount, job.EnqueuedAt)
        {
            StartedAt = job.StartedAt, Attempts = job.Attempts, FinishedAt = _time.GetUtcNow(), Error = error,
        });
    }

    /// <inheritdoc />
    public Task<int> RequeueRunningAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            int count = 0;
            foreach (Entry entry in _jobs.Where(e => e.Job.State == RpmBuildJobState.Running))
            {
                RpmBuildJob job = entry.Job;
                entry.Job = new RpmBuildJob(job.Id, job.UserId, RpmBuildJobState.Pending, job.HistoryCount, job.EnqueuedAt) { StartedAt = job.StartedAt, Attempts = job.Attempts };
                count++;
            }

            return Task.FromResult(count);
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        lock (_lock)
        {
            return Task.FromResult(_jobs.RemoveAll(e => e.Request.UserId == userId));
        }
    }

    private Task Finish(string jobId, Func<RpmBuildJob, RpmBuildJob> finish)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        lock (_lock)
        {
            // A job erased while it ran is gone: nothing to record.
            Entry? entry = _jobs.Find(e => e.Job.Id == jobId);
            if (entry is not null)
            {
                entry.Job = finish(entry.Job);
            }
        }

        return Task.CompletedTask;
    }

    private sealed class Entry(RpmBuildRequest request)
    {
        public RpmBuildRequest Request { get; } = request;

        public required RpmBuildJob Job { get; set; }
    }
}
