using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Rpm;

/// <summary>
/// A queue of user-model builds in PostgreSQL that several workers (threads, processes or hosts) serve together: each
/// user is claimed by exactly one worker at a time, with a session advisory lock that the database releases when the
/// worker's connection closes (so a worker that dies releases its claims), and every build resumes from the shared
/// build checkpoints of the one before it.
/// </summary>
/// <remarks>
/// <para>
/// Producers call <see cref="EnqueueAsync"/>; workers call <see cref="RunWorkerAsync"/> (forever) or
/// <see cref="ProcessPendingAsync"/> (until nothing is claimable), or drive claims themselves with
/// <see cref="TryClaimNextAsync"/>. Each worker builds one user at a time; run several workers for more.
/// </para>
/// <para>
/// For the guarantees to hold across hosts, the pipeline given to a worker must use a
/// <see cref="PostgresUserModelStore"/> and a <see cref="PostgresBuildCheckpointStore"/> over the same database
/// (what <c>UsePostgresStore</c> registers). A job whose task and history the stored model already covers is
/// completed without model calls, so a worker that dies after saving a model but before marking its job done costs
/// nothing.
/// </para>
/// </remarks>
public sealed class PostgresBuildQueue
{
    /// <summary>The first key of the queue's two-key advisory locks ("RPM1"); the second is <c>hashtext(user_id)</c>.</summary>
    internal const int LockClass = 0x52504D31;

    private const string Channel = "rpm_build_jobs";
    private readonly PostgresDatabase _database;

    /// <summary>Initializes a new instance of the <see cref="PostgresBuildQueue"/> class.</summary>
    /// <param name="dataSource">The database; not disposed by the queue.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults; validated here.</param>
    /// <param name="loggerFactory">Where the queue's log events go (claims, completions, retries, failures); <see langword="null"/> for none.</param>
    public PostgresBuildQueue(NpgsqlDataSource dataSource, PostgresBuildQueueOptions? options = null, ILoggerFactory? loggerFactory = null)
        : this(new PostgresDatabase(dataSource), options, loggerFactory)
    {
    }

    internal PostgresBuildQueue(PostgresDatabase database, PostgresBuildQueueOptions? options, ILoggerFactory? loggerFactory = null)
    {
        _database = database;
        Options = options ?? new PostgresBuildQueueOptions();
        Options.Validate();
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PostgresBuildQueue>();
    }

    /// <summary>Gets the options.</summary>
    public PostgresBuildQueueOptions Options { get; }

    /// <summary>Gets the logger of the queue and its claims.</summary>
    internal ILogger Logger { get; }

    /// <summary>Gets how a user appears in log messages: pseudonymized unless <see cref="PostgresBuildQueueOptions.EmitRawUserIds"/> is set.</summary>
    internal string LogUserId(string userId) => Options.EmitRawUserIds ? userId : RpmTelemetry.PseudonymizeUserId(userId);

    /// <summary>Replaces the quoted user id in an error's text (the libraries quote ids as <c>'id'</c>) with the pseudonym.</summary>
    internal string Scrub(string text, string userId) =>
        Options.EmitRawUserIds ? text : text.Replace($"'{userId}'", $"'{RpmTelemetry.PseudonymizeUserId(userId)}'", StringComparison.Ordinal);

    /// <summary>
    /// Asks for a user's model to be built from a history. Enqueuing a user again replaces the job (a new generation),
    /// also while a worker builds the previous one: that build's completion then leaves the new job pending.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history; ids unique, outputs valid for the task.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job's generation.</returns>
    /// <exception cref="ArgumentException">The history is empty, an id repeats, or an output is not valid for the task (the item is named).</exception>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<long> EnqueueAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(history);
        List<HistoryItem> items = [.. task.ValidateHistory(history)];
        if (items.Count == 0)
        {
            throw new ArgumentException($"The history of '{userId}' is empty: a user model needs at least one history item.", nameof(history));
        }

        string taskJson = JsonSerializer.Serialize(task, RpmJson.RpmTask);
        string historyJson = JsonSerializer.Serialize(items, BuildQueueJsonContext.Default.ListHistoryItem);

        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rpm_build_jobs (user_id, generation, task_json, history_json, status) VALUES (@user, 1, @task, @history, 'pending')
            ON CONFLICT (user_id) DO UPDATE SET
                generation = rpm_build_jobs.generation + 1, task_json = excluded.task_json, history_json = excluded.history_json,
                status = 'pending', attempts = 0, not_before = now(), enqueued_at = now(), finished_at = NULL, last_error = NULL, model_version = NULL
            RETURNING generation;
            SELECT pg_notify(@channel, @user);
            """,
            connection);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("task", taskJson);
        command.Parameters.AddWithValue("history", historyJson);
        command.Parameters.AddWithValue("channel", Channel);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Gets what the queue knows about a user's job.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job, or <see langword="null"/> when the user was never enqueued.</returns>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<PostgresBuildJob?> GetJobAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            SELECT status, generation, attempts, json_array_length(history_json::json), enqueued_at, finished_at, worker, last_error, model_version
            FROM rpm_build_jobs WHERE user_id = @user;
            """,
            connection);
        command.Parameters.AddWithValue("user", userId);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new PostgresBuildJob(
            userId,
            reader.GetString(0) switch { "done" => PostgresBuildJobStatus.Done, "failed" => PostgresBuildJobStatus.Failed, _ => PostgresBuildJobStatus.Pending },
            reader.GetInt64(1),
            reader.GetInt32(2),
            reader.GetInt32(3),
            reader.GetFieldValue<DateTimeOffset>(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetInt64(8));
    }

    /// <summary>
    /// Claims the oldest pending job that no other worker holds and that is not waiting for a retry.
    /// </summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The claim, or <see langword="null"/> when no job can be claimed now. Dispose it to release the user.</returns>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<PostgresBuildClaim?> TryClaimNextAsync(CancellationToken cancellationToken = default)
    {
        NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DateTime afterEnqueued = DateTime.UnixEpoch;
            string afterUser = string.Empty;
            while (true)
            {
                // Candidates in queue order, a page at a time; the lock decides, and the job is read again under it.
                var candidates = new List<(string UserId, DateTime EnqueuedAt)>();
                await using (var page = new NpgsqlCommand(
                    """
                    SELECT user_id, enqueued_at FROM rpm_build_jobs
                    WHERE status = 'pending' AND not_before <= now() AND (enqueued_at, user_id) > (@after_at, @after_user)
                    ORDER BY enqueued_at, user_id LIMIT 32;
                    """,
                    connection))
                {
                    page.Parameters.AddWithValue("after_at", afterEnqueued);
                    page.Parameters.AddWithValue("after_user", afterUser);
                    await using NpgsqlDataReader reader = await page.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        candidates.Add((reader.GetString(0), reader.GetDateTime(1)));
                    }
                }

                if (candidates.Count == 0)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    return null;
                }

                foreach (var (userId, enqueuedAt) in candidates)
                {
                    PostgresBuildClaim? claim = await TryClaimAsync(connection, userId, cancellationToken).ConfigureAwait(false);
                    if (claim is not null)
                    {
                        return claim;
                    }

                    afterEnqueued = enqueuedAt;
                    afterUser = userId;
                }
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Claims and builds pending jobs one after another with <paramref name="pipeline"/> until none can be claimed
    /// (all done, held by other workers, or waiting for a retry).
    /// </summary>
    /// <param name="pipeline">The pipeline that builds; its stores should be the PostgreSQL stores of this database.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests; a cancelled build stays pending and resumes later.</param>
    /// <returns>The number of jobs this call finished (built, already covered, or failed).</returns>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<int> ProcessPendingAsync(RpmPipeline pipeline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        int finished = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PostgresBuildClaim? claim = await TryClaimNextAsync(cancellationToken).ConfigureAwait(false);
            if (claim is null)
            {
                return finished;
            }

            await using (claim.ConfigureAwait(false))
            {
                await PostgresBuildJobRunner.RunAsync(pipeline, claim, cancellationToken).ConfigureAwait(false);
                finished++;
            }
        }
    }

    /// <summary>
    /// Runs a worker until cancelled: builds every claimable job, then waits for a new job notification (or
    /// <see cref="PostgresBuildQueueOptions.PollInterval"/>) and looks again.
    /// </summary>
    /// <param name="pipeline">The pipeline that builds; its stores should be the PostgreSQL stores of this database.</param>
    /// <param name="cancellationToken">Stops the worker; a build in progress stays pending and resumes on the next worker.</param>
    /// <returns>A task that completes (cancelled) when the worker stops.</returns>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task RunWorkerAsync(RpmPipeline pipeline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        await using NpgsqlConnection listener = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel};", listener))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            await ProcessPendingAsync(pipeline, cancellationToken).ConfigureAwait(false);
            await listener.WaitAsync(Options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<PostgresBuildClaim?> TryClaimAsync(NpgsqlConnection connection, string userId, CancellationToken cancellationToken)
    {
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(@class, hashtext(@user));", connection))
        {
            tryLock.Parameters.AddWithValue("class", LockClass);
            tryLock.Parameters.AddWithValue("user", userId);
            if (await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return null;
            }
        }

        bool claimed = false;
        try
        {
            // Read the job again under the lock: another worker may have finished it since the candidates were listed.
            await using var read = new NpgsqlCommand(
                "SELECT generation, attempts, task_json, history_json FROM rpm_build_jobs WHERE user_id = @user AND status = 'pending' AND not_before <= now();",
                connection);
            read.Parameters.AddWithValue("user", userId);
            await using NpgsqlDataReader reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            long generation = reader.GetInt64(0);
            int attempts = reader.GetInt32(1);
            RpmTask task;
            List<HistoryItem> history;
            try
            {
                task = JsonSerializer.Deserialize(reader.GetString(2), RpmJson.RpmTask) ?? throw new JsonException("The task is null.");
                history = JsonSerializer.Deserialize(reader.GetString(3), BuildQueueJsonContext.Default.ListHistoryItem) ?? throw new JsonException("The history is null.");
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException)
            {
                throw new InvalidDataException($"The build job of '{userId}' in {_database.Location} is corrupt ({ex.Message}); enqueue the user again.", ex);
            }

            claimed = true;
            QueueLog.JobClaimed(Logger, Options.WorkerName, LogUserId(userId), generation, attempts);
            return new PostgresBuildClaim(this, connection, userId, generation, attempts, task, history);
        }
        finally
        {
            if (!claimed)
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@class, hashtext(@user));", connection);
                unlock.Parameters.AddWithValue("class", LockClass);
                unlock.Parameters.AddWithValue("user", userId);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
