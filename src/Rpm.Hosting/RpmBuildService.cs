using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Rpm;

/// <summary>
/// Builds user models from <see cref="RpmBuildQueue"/> in the background (a hosted service, registered by
/// <c>AddBackgroundBuilds()</c>): one build per user at a time, up to <see cref="RpmBuildServiceOptions.MaxConcurrentBuilds"/> users at once.
/// </summary>
/// <remarks>
/// At start it puts jobs a previous process left running back to pending: their finished calls are checkpointed, so
/// the resumed build pays only for the calls that had not finished. A job that fails records the exception's type
/// and message, without the endpoint's own text (which can quote a prompt; the log keeps it); a job interrupted by
/// shutdown stays running until the next start resumes it.
/// </remarks>
public sealed partial class RpmBuildService : BackgroundService
{
    private readonly RpmPipeline _pipeline;
    private readonly RpmBuildQueue _queue;
    private readonly RpmBuildServiceOptions _options;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="RpmBuildService"/> class.</summary>
    /// <param name="pipeline">The pipeline that builds.</param>
    /// <param name="queue">The queue.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> or <paramref name="queue"/> is <see langword="null"/>.</exception>
    public RpmBuildService(RpmPipeline pipeline, RpmBuildQueue queue, IOptions<RpmBuildServiceOptions>? options = null, ILogger<RpmBuildService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(queue);
        _pipeline = pipeline;
        _queue = queue;
        _options = options?.Value ?? new RpmBuildServiceOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_queue.Jobs is IRpmBuildJobRunner runner)
        {
            await RunSharedAsync(runner, stoppingToken).ConfigureAwait(false);
            return;
        }

        // A store that cannot be used at start (a damaged or locked file, a server still starting) must not end the
        // service: an exception out of ExecuteAsync stops the whole host, web requests and health endpoint included.
        TimeSpan wait = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                int resumed = await _queue.Jobs.RequeueRunningAsync(stoppingToken).ConfigureAwait(false);
                if (resumed > 0)
                {
                    LogResumed(_logger, resumed);
                }

                break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogStoreFailed(_logger, ex);
                try
                {
                    await Task.Delay(wait, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }

        using var slots = new SemaphoreSlim(_options.MaxConcurrentBuilds);
        var running = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                (RpmBuildJob Job, RpmBuildRequest Request)? next;
                try
                {
                    next = await _queue.Jobs.TryStartNextAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The job store is unreachable for now (a locked or moved file): keep the worker alive.
                    slots.Release();
                    LogStoreFailed(_logger, ex);
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (next is not { } work)
                {
                    slots.Release();
                    await _queue.WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(RunAsync(work.Job, work.Request, slots, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task RunSharedAsync(IRpmBuildJobRunner runner, CancellationToken stoppingToken)
    {
        // The store's own workers (across hosts) claim and build; one that cannot be used (a transaction-mode pooler, a
        // schema newer than this host) is logged with what to change and tried again, so the web app itself stays up.
        TimeSpan wait = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await runner.RunAsync(_pipeline, _options.MaxConcurrentBuilds, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogWorkersFailed(_logger, wait, ex);
                try
                {
                    await Task.Delay(wait, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            }
        }
    }

    private async Task RunAsync(RpmBuildJob job, RpmBuildRequest request, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        await Task.Yield();

        // The build's stage reports (this async flow only) become the job's progress for pollers in this process.
        BuildProgress.Observe((stage, completed, total) => _queue.ReportProgress(job, request, stage, completed, total));
        try
        {
            // The same history posted again after its build finished: the saved model already is that build.
            UserModel? saved = await _pipeline.GetUserModelAsync(request.UserId, stoppingToken).ConfigureAwait(false);
            if (saved is not null && ModelCoverage.Covers(saved, request.Task, request.History))
            {
                await _queue.Jobs.CompleteAsync(job.Id, saved.Version, CancellationToken.None).ConfigureAwait(false);
                LogAlreadyBuilt(_logger, job.Id, saved.Version);
            }
            else
            {
                // A history that only adds items to the saved model's is an update: two calls per new item, not 2N + 1.
                IReadOnlyList<HistoryItem>? added = saved is null ? null : ModelCoverage.Additions(saved, request.Task, request.History);
                UserModel model = added is not null
                    ? await _pipeline.AddHistoryAsync(request.UserId, added, stoppingToken).ConfigureAwait(false)
                    : await _pipeline.BuildUserModelAsync(request.UserId, request.Task, request.History, stoppingToken).ConfigureAwait(false);
                await _queue.Jobs.CompleteAsync(job.Id, model.Version, CancellationToken.None).ConfigureAwait(false);
                LogSucceeded(_logger, job.Id, model.Version);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the job stays running and the next start resumes it from its checkpoints.
            return;
        }
        catch (Exception ex)
        {
            if (ex is OperationCanceledException && await JobErasedAsync(job.Id).ConfigureAwait(false))
            {
                // The user was erased while the job ran: the erasure cancelled the build, which saved nothing.
                LogErased(_logger, job.Id);
            }
            else
            {
                LogFailed(_logger, job.Id, ex);
                try
                {
                    await _queue.Jobs.FailAsync(job.Id, JobError.Describe(ex), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception storeError)
                {
                    LogStoreFailed(_logger, storeError);
                }
            }
        }
        finally
        {
            BuildProgress.Observe(null);
            _queue.ForgetProgress(job.Id);
            slots.Release();
            _queue.Signal();
        }

        await _queue.FinishedAsync(job.Id, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<bool> JobErasedAsync(string jobId)
    {
        try
        {
            return await _queue.Jobs.GetAsync(jobId, CancellationToken.None).ConfigureAwait(false) is null;
        }
        catch (Exception)
        {
            return false;
        }
    }

    [LoggerMessage(6, LogLevel.Information, "Build job {JobId}: the saved model version {Version} was built from this very history; nothing to pay.")]
    private static partial void LogAlreadyBuilt(ILogger logger, string jobId, long version);

    [LoggerMessage(5, LogLevel.Information, "Build job {JobId} stopped: its user was erased while it ran, so it saved nothing.")]
    private static partial void LogErased(ILogger logger, string jobId);

    [LoggerMessage(1, LogLevel.Information, "Resumed {Count} build jobs a previous process left running.")]
    private static partial void LogResumed(ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Information, "Build job {JobId} saved model version {Version}.")]
    private static partial void LogSucceeded(ILogger logger, string jobId, long version);

    [LoggerMessage(3, LogLevel.Warning, "Build job {JobId} failed.")]
    private static partial void LogFailed(ILogger logger, string jobId, Exception error);

    [LoggerMessage(7, LogLevel.Error, "The build workers of the job store stopped; starting them again in {Delay}.")]
    private static partial void LogWorkersFailed(ILogger logger, TimeSpan delay, Exception error);

    [LoggerMessage(4, LogLevel.Warning, "The build job store failed; retrying.")]
    private static partial void LogStoreFailed(ILogger logger, Exception error);
}
