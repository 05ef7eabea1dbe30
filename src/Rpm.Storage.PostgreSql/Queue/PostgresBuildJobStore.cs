using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Rpm;

/// <summary>
/// The PostgreSQL build queue as Rpm.Hosting's job store (<c>UsePostgresStore(...).AddBackgroundBuilds()</c>): jobs are
/// the queue's rows, shared by every host, and <see cref="RpmBuildService"/> runs the queue's own workers
/// (<see cref="PostgresBuildQueue.RunWorkerAsync"/>), so each user is built by one host at a time and a lost server or
/// host costs at most the calls in flight.
/// </summary>
/// <remarks>
/// A job id is the user's job generation and the user id (base64url), so any host can read it. The queue keeps one job
/// per user: a job replaced by a newer request for its user is gone (<see cref="GetAsync"/> returns
/// <see langword="null"/>). <see cref="RpmBuildJob.Progress"/> and <see cref="RpmBuildJob.StartedAt"/> are always
/// <see langword="null"/> here, and <see cref="RpmBuildJob.Attempts"/> counts failed attempts only.
/// </remarks>
internal sealed class PostgresBuildJobStore(PostgresBuildQueue queue) : IRpmBuildJobStore, IRpmBuildJobRunner
{
    private readonly ConcurrentDictionary<string, PostgresBuildClaim> _claims = new(StringComparer.Ordinal);

    public async Task<RpmBuildJob> EnqueueAsync(RpmBuildRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        (long generation, DateTimeOffset enqueuedAt, int count) = await queue.EnqueueCoreAsync(request.UserId, request.Task, request.History, cancellationToken).ConfigureAwait(false);
        return new RpmBuildJob(JobId(request.UserId, generation), request.UserId, RpmBuildJobState.Pending, count, enqueuedAt);
    }

    public async Task<RpmBuildJob?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (!TryParse(jobId, out string? userId, out long generation))
        {
            return null;
        }

        await using NpgsqlConnection connection = await queue.Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            SELECT status, attempts, history_count, enqueued_at, finished_at, last_error, model_version, generation,
                EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND classid = @class::oid AND objid = hashtext(@user)::oid AND objsubid = 2)
            FROM rpm_build_jobs WHERE user_id = @user;
            """,
            connection);
        command.Parameters.AddWithValue("class", PostgresBuildQueue.LockClass);
        command.Parameters.AddWithValue("user", userId);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        // The queue keeps one job per user: a job replaced by a newer request (another generation) is gone, as is
        // one that never existed; neither may report the current job's outcome as its own.
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.GetInt64(7) != generation)
        {
            return null;
        }

        string status = reader.GetString(0);
        RpmBuildJobState state = status switch
        {
            "done" => RpmBuildJobState.Succeeded,
            "failed" => RpmBuildJobState.Failed,
            _ => reader.GetBoolean(8) ? RpmBuildJobState.Running : RpmBuildJobState.Pending,
        };

        // A pending job with an error is waiting for its retry: the reason stays visible until it succeeds.
        return new RpmBuildJob(jobId, userId, state, reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3))
        {
            Attempts = reader.GetInt32(1),
            FinishedAt = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
            Error = reader.IsDBNull(5) ? null : reader.GetString(5),
            ModelVersion = reader.IsDBNull(6) ? null : reader.GetInt64(6),
        };
    }

    public async Task RunAsync(RpmPipeline pipeline, int workers, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Task[] running = [.. Enumerable.Range(0, workers).Select(_ => Task.Run(() => queue.RunWorkerAsync(pipeline, stop.Token), CancellationToken.None))];

        // A worker ends only on what reconnecting cannot fix (a transaction-mode pooler, a newer schema): stop the others too.
        Task first = await Task.WhenAny(running).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!first.IsFaulted)
        {
            stoppingToken.ThrowIfCancellationRequested();
            throw;
        }
        catch (Exception) when (first.IsFaulted)
        {
            await first.ConfigureAwait(false);
        }
    }

    public async Task<(RpmBuildJob Job, RpmBuildRequest Request)?> TryStartNextAsync(CancellationToken cancellationToken = default)
    {
        PostgresBuildClaim? claim = await queue.TryClaimNextAsync(cancellationToken).ConfigureAwait(false);
        if (claim is null)
        {
            return null;
        }

        string id = JobId(claim.UserId, claim.Generation);
        _claims[id] = claim;
        var job = new RpmBuildJob(id, claim.UserId, RpmBuildJobState.Running, claim.History.Count, DateTimeOffset.UtcNow) { Attempts = claim.PreviousAttempts + 1 };
        return (job, new RpmBuildRequest(claim.UserId, claim.Task, claim.History));
    }

    public async Task CompleteAsync(string jobId, long modelVersion, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (_claims.TryRemove(jobId, out PostgresBuildClaim? claim))
        {
            await using (claim.ConfigureAwait(false))
            {
                await claim.CompleteAsync(modelVersion, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task FailAsync(string jobId, string error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(error);
        if (_claims.TryRemove(jobId, out PostgresBuildClaim? claim))
        {
            await using (claim.ConfigureAwait(false))
            {
                await claim.FailWithReasonAsync(error, "Rpm.IRpmBuildJobStore.FailAsync", error, permanent: false, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Nothing to do: the server releases the claims of a host that ended with its connections.</summary>
    public Task<int> RequeueRunningAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);

    /// <summary>
    /// Deletes the user's job, then waits until no host builds the user: a build in progress sees its job gone within
    /// <see cref="PostgresBuildQueueOptions.ClaimCheckInterval"/> and stops, and its claim ends. After this returns no
    /// build of the user saves a model again, so the erasure that follows deletes the last of it.
    /// </summary>
    public async Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using NpgsqlConnection connection = await queue.Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        int deleted;
        await using (var delete = new NpgsqlCommand("DELETE FROM rpm_build_jobs WHERE user_id = @user;", connection))
        {
            delete.Parameters.AddWithValue("user", userId);
            deleted = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var wait = new NpgsqlCommand("SELECT pg_advisory_lock(@class, hashtext(@user)); SELECT pg_advisory_unlock(@class, hashtext(@user));", connection))
        {
            wait.CommandTimeout = 0;  // bounded by the caller's token: a build stops within a claim check and its call in flight
            wait.Parameters.AddWithValue("class", PostgresBuildQueue.LockClass);
            wait.Parameters.AddWithValue("user", userId);
            await wait.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    private static string JobId(string userId, long generation) =>
        generation.ToString(CultureInfo.InvariantCulture) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(userId));

    private static bool TryParse(string jobId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? userId, out long generation)
    {
        userId = null;
        generation = 0;
        int dot = jobId.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(jobId.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out generation))
        {
            return false;
        }

        try
        {
            userId = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(jobId.AsSpan(dot + 1)));
            return userId.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
