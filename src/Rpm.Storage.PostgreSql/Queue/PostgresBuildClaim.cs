using Npgsql;

namespace Rpm;

/// <summary>
/// A user's build job claimed by this worker: while the claim is held (until it is disposed), no other worker can
/// claim the user. The claim is a session advisory lock on a connection of its own, so a worker that dies releases it
/// when the server sees its connection close.
/// </summary>
/// <remarks>
/// Finish with <see cref="CompleteAsync"/> or <see cref="FailAsync"/>, then dispose. Disposing without either leaves
/// the job pending for the next worker (what a crash does).
/// </remarks>
public sealed class PostgresBuildClaim : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly PostgresBuildQueue _queue;
    private bool _disposed;

    internal PostgresBuildClaim(PostgresBuildQueue queue, NpgsqlConnection connection, string userId, long generation, int attempts, RpmTask task, IReadOnlyList<HistoryItem> history)
    {
        _queue = queue;
        _connection = connection;
        UserId = userId;
        Generation = generation;
        PreviousAttempts = attempts;
        Task = task;
        History = history;
    }

    /// <summary>Gets the user to build.</summary>
    public string UserId { get; }

    /// <summary>Gets the generation of the job (see <see cref="PostgresBuildJob.Generation"/>).</summary>
    public long Generation { get; }

    /// <summary>Gets the number of failed builds of this job before this claim.</summary>
    public int PreviousAttempts { get; }

    /// <summary>Gets the task of the build.</summary>
    public RpmTask Task { get; }

    /// <summary>Gets the history to build from (outputs in canonical form).</summary>
    public IReadOnlyList<HistoryItem> History { get; }

    /// <summary>Gets the queue the claim was made on.</summary>
    internal PostgresBuildQueue Queue => _queue;

    /// <summary>Gets why the claim was lost (its connection, and with it the advisory lock, ended), if <see cref="WatchAsync"/> saw it.</summary>
    internal Exception? LostReason { get; private set; }

    /// <summary>Gets whether the user's job was deleted while the claim was held (the user was erased, on any host), if <see cref="WatchAsync"/> saw it.</summary>
    internal bool Erased { get; private set; }

    /// <summary>
    /// Checks every <see cref="PostgresBuildQueueOptions.ClaimCheckInterval"/> that the claim's connection (which holds
    /// the lock) is alive and that the user's job still exists, until <paramref name="stop"/>; when the connection is
    /// lost, records why, and when the job was deleted (an erasure, on any host), records that; either way cancels
    /// <paramref name="onLost"/>, so that a build goes no further. Nothing else may use the connection until this returns.
    /// </summary>
    internal async System.Threading.Tasks.Task WatchAsync(CancellationTokenSource onLost, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await System.Threading.Tasks.Task.Delay(_queue.Options.ClaimCheckInterval, _queue.Options.TimeProvider, stop).ConfigureAwait(false);
                await using var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM rpm_build_jobs WHERE user_id = @user);", _connection);
                check.Parameters.AddWithValue("user", UserId);
                if (await check.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is false)
                {
                    Erased = true;
                    QueueLog.JobErased(_queue.Logger, _queue.Options.WorkerName, _queue.LogUserId(UserId), Generation);
                    await onLost.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (PostgresConnectionLoss.Is(ex) || ex is InvalidOperationException)
        {
            LostReason = ex;
            QueueLog.ClaimLost(_queue.Logger, _queue.Options.WorkerName, _queue.LogUserId(UserId), Generation, PostgresConnectionLoss.Reason(ex));
            await onLost.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Marks the job done. When the user was enqueued again meanwhile, the newer job stays pending.</summary>
    /// <param name="modelVersion">The store version of the saved model.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns><see langword="true"/> when this generation was marked done; <see langword="false"/> when a newer one replaced it.</returns>
    public async Task<bool> CompleteAsync(long modelVersion, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var command = new NpgsqlCommand(
            """
            UPDATE rpm_build_jobs SET status = 'done', finished_at = now(), worker = @worker, model_version = @version, last_error = NULL, history_json = '[]'
            WHERE user_id = @user AND generation = @generation;
            """,
            _connection);
        command.Parameters.AddWithValue("worker", _queue.Options.WorkerName);
        command.Parameters.AddWithValue("version", modelVersion);
        command.Parameters.AddWithValue("user", UserId);
        command.Parameters.AddWithValue("generation", Generation);
        bool current = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        if (current)
        {
            QueueLog.JobCompleted(_queue.Logger, _queue.Options.WorkerName, _queue.LogUserId(UserId), Generation, modelVersion);
        }
        else
        {
            QueueLog.JobSuperseded(_queue.Logger, _queue.Options.WorkerName, Generation, _queue.LogUserId(UserId));
        }

        return current;
    }

    /// <summary>
    /// Records a failed build: the job waits <see cref="PostgresBuildQueueOptions.RetryDelay"/> and is claimed again,
    /// until <see cref="PostgresBuildQueueOptions.MaxAttempts"/> failures (or at once, when <paramref name="permanent"/>)
    /// make it <see cref="PostgresBuildJobStatus.Failed"/>.
    /// </summary>
    /// <param name="error">The error.</param>
    /// <param name="permanent">Whether a retry cannot help (e.g. the history is invalid).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job's status afterwards.</returns>
    public Task<PostgresBuildJobStatus> FailAsync(Exception error, bool permanent = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        return FailWithReasonAsync(JobError.Describe(error), error.GetType().FullName ?? error.GetType().Name, error.Message, permanent, cancellationToken);
    }

    /// <summary>Records a failed build with its reason as text (<paramref name="reason"/> is stored; the type and message are logged).</summary>
    internal async Task<PostgresBuildJobStatus> FailWithReasonAsync(string reason, string errorType, string errorMessage, bool permanent, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var command = new NpgsqlCommand(
            """
            UPDATE rpm_build_jobs SET
                attempts = attempts + 1,
                status = CASE WHEN @permanent OR attempts + 1 >= @max THEN 'failed' ELSE 'pending' END,
                finished_at = CASE WHEN @permanent OR attempts + 1 >= @max THEN now() ELSE NULL END,
                history_json = CASE WHEN @permanent OR attempts + 1 >= @max THEN '[]' ELSE history_json END,
                not_before = now() + @delay,
                worker = @worker,
                last_error = @error
            WHERE user_id = @user AND generation = @generation
            RETURNING status, attempts;
            """,
            _connection);
        command.Parameters.AddWithValue("permanent", permanent);
        command.Parameters.AddWithValue("max", _queue.Options.MaxAttempts);
        command.Parameters.AddWithValue("delay", _queue.Options.RetryDelay);
        command.Parameters.AddWithValue("worker", _queue.Options.WorkerName);
        command.Parameters.AddWithValue("error", reason);
        command.Parameters.AddWithValue("user", UserId);
        command.Parameters.AddWithValue("generation", Generation);
        string? status = null;
        int attempts = PreviousAttempts + 1;
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                status = reader.GetString(0);
                attempts = reader.GetInt32(1);
            }
        }

        if (status is null)
        {
            // A newer generation replaced the job: this failure is not its.
            return PostgresBuildJobStatus.Pending;
        }

        string userId = _queue.LogUserId(UserId);
        string message = _queue.Scrub(errorMessage, UserId);
        if (status == "failed")
        {
            QueueLog.JobFailed(_queue.Logger, userId, Generation, attempts, permanent, errorType, message);
            return PostgresBuildJobStatus.Failed;
        }

        QueueLog.JobRetryScheduled(_queue.Logger, userId, Generation, attempts, _queue.Options.MaxAttempts, _queue.Options.RetryDelay, errorType, message);
        return PostgresBuildJobStatus.Pending;
    }

    /// <summary>Releases the claim (the advisory lock) and its connection.</summary>
    /// <returns>A task that completes when the claim is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        QueueLog.ClaimReleased(_queue.Logger, _queue.Options.WorkerName, _queue.LogUserId(UserId));
        try
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@class, hashtext(@user));", _connection);
            unlock.Parameters.AddWithValue("class", PostgresBuildQueue.LockClass);
            unlock.Parameters.AddWithValue("user", UserId);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection is broken: the server released the lock when it dropped the session.
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
