using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Polly;
using Polly.Retry;

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
    private volatile bool _sessionsChecked;

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

    /// <summary>Gets the queue's database.</summary>
    internal PostgresDatabase Database => _database;

    /// <summary>Gets the database as messages name it.</summary>
    internal string Location => _database.Location;

    /// <summary>Gets the logger of the queue and its claims.</summary>
    internal ILogger Logger { get; }

    /// <summary>Gets how a user appears in log messages: pseudonymized unless <see cref="PostgresBuildQueueOptions.EmitRawUserIds"/> is set.</summary>
    internal string LogUserId(string userId) => Options.EmitRawUserIds ? userId : RpmTelemetry.PseudonymizeUserId(userId);

    /// <summary>Replaces the quoted user id in an error's text (the libraries quote ids as <c>'id'</c>) with the pseudonym.</summary>
    internal string Scrub(string text, string userId) =>
        Options.EmitRawUserIds ? text : text.Replace($"'{userId}'", $"'{RpmTelemetry.PseudonymizeUserId(userId)}'", StringComparison.Ordinal);

    /// <summary>
    /// Asks for a user's model to be built from a history. Enqueuing a user again replaces the job (a new generation),
    /// also while a worker builds the previous one: that build's completion then leaves the new job pending. The same
    /// task and history again while the job is pending or being built joins it (same generation, nothing new to pay).
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="task">The task the history belongs to.</param>
    /// <param name="history">The history; ids unique, outputs valid for the task.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The job's generation.</returns>
    /// <exception cref="ArgumentException">The history is empty, an id repeats, or an output is not valid for the task (the item is named).</exception>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<long> EnqueueAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history, CancellationToken cancellationToken = default) =>
        (await EnqueueCoreAsync(userId, task, history, cancellationToken).ConfigureAwait(false)).Generation;

    /// <summary>Enqueues, or joins the user's pending job when it is for the same task and history; returns the job's generation and when it was enqueued.</summary>
    internal async Task<(long Generation, DateTimeOffset EnqueuedAt, int HistoryCount)> EnqueueCoreAsync(string userId, RpmTask task, IEnumerable<HistoryItem> history, CancellationToken cancellationToken)
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

        // The same task and history again while its job is pending (or being built) joins that job: nothing new to pay.
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            WITH upserted AS (
                INSERT INTO rpm_build_jobs (user_id, generation, task_json, history_json, history_count, status) VALUES (@user, 1, @task, @history, @count, 'pending')
                ON CONFLICT (user_id) DO UPDATE SET
                    generation = rpm_build_jobs.generation + 1, task_json = excluded.task_json, history_json = excluded.history_json, history_count = excluded.history_count,
                    status = 'pending', attempts = 0, not_before = now(), enqueued_at = now(), finished_at = NULL, last_error = NULL, model_version = NULL
                WHERE NOT (rpm_build_jobs.status = 'pending' AND rpm_build_jobs.task_json = excluded.task_json AND rpm_build_jobs.history_json = excluded.history_json)
                RETURNING generation, enqueued_at, true AS changed)
            SELECT generation, enqueued_at, changed FROM upserted
            UNION ALL
            SELECT generation, enqueued_at, false FROM rpm_build_jobs WHERE user_id = @user AND NOT EXISTS (SELECT 1 FROM upserted);
            """,
            connection);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("task", taskJson);
        command.Parameters.AddWithValue("history", historyJson);
        command.Parameters.AddWithValue("count", items.Count);
        long generation;
        DateTimeOffset enqueuedAt;
        bool changed;
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The build job of '{userId}' was neither written nor found in {_database.Location}.");
            }

            generation = reader.GetInt64(0);
            enqueuedAt = reader.GetFieldValue<DateTimeOffset>(1);
            changed = reader.GetBoolean(2);
        }

        if (changed)
        {
            await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @user);", connection);
            notify.Parameters.AddWithValue("channel", Channel);
            notify.Parameters.AddWithValue("user", userId);
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return (generation, enqueuedAt, items.Count);
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
            SELECT status, generation, attempts, history_count, enqueued_at, finished_at, worker, last_error, model_version
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
    /// <exception cref="RpmStoreException">The connection string leads to a transaction-mode pooler (PgBouncer), whose connections cannot hold a claim.</exception>
    public async Task<PostgresBuildClaim?> TryClaimNextAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSessionsAsync(cancellationToken).ConfigureAwait(false);
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
    /// <exception cref="RpmStoreException">
    /// The server cannot be reached, or was lost during the call (the message says so and how many jobs finished; the
    /// others stay pending and resume from their checkpoints), or the connection string leads to a transaction-mode pooler.
    /// </exception>
    public async Task<int> ProcessPendingAsync(RpmPipeline pipeline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var finished = new StrongBox<int>();
        try
        {
            await ProcessPendingCoreAsync(pipeline, finished, cancellationToken).ConfigureAwait(false);
            return finished.Value;
        }
        catch (Exception ex) when (PostgresConnectionLoss.Is(ex) && !cancellationToken.IsCancellationRequested)
        {
            // A one-shot drain does not wait for the server to come back, but it never ends quietly with jobs pending.
            string reason = PostgresConnectionLoss.Reason(ex);
            QueueLog.ConnectionLost(Logger, Options.WorkerName, $"{_database.Host}:{_database.Port}", reason);
            _database.DataSource.Clear();
            throw new RpmStoreException(
                $"The build queue lost {_database.Location} ({reason}) after finishing {finished.Value} job(s) in this call. The jobs not finished stay pending (a claim ends with its connection) and resume from their checkpoints: call {nameof(ProcessPendingAsync)} again once the server is back, or run {nameof(RunWorkerAsync)}, which reconnects by itself.",
                ex);
        }
    }

    /// <summary>
    /// Runs a worker until cancelled: builds every claimable job, then waits for a new job notification (or
    /// <see cref="PostgresBuildQueueOptions.PollInterval"/>) and looks again. A lost server (a restart, a failover,
    /// a cut network) does not end it: it reconnects with capped exponential backoff and jitter
    /// (<see cref="PostgresBuildQueueOptions.ReconnectDelay"/>, <see cref="PostgresBuildQueueOptions.MaxReconnectDelay"/>),
    /// logging each attempt with its reason, and claims again once the server is back; a build whose claim was lost
    /// stops and resumes from its checkpoints.
    /// </summary>
    /// <param name="pipeline">The pipeline that builds; its stores should be the PostgreSQL stores of this database.</param>
    /// <param name="cancellationToken">Stops the worker; a build in progress stays pending and resumes on the next worker.</param>
    /// <returns>A task that completes (cancelled) when the worker stops.</returns>
    /// <exception cref="RpmStoreException">
    /// The database cannot be used in a way reconnecting cannot fix: it does not exist, the user is refused, its schema
    /// is newer than this library, or the connection string leads to a transaction-mode pooler (PgBouncer).
    /// </exception>
    public async Task RunWorkerAsync(RpmPipeline pipeline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        string server = $"{_database.Host}:{_database.Port}";

        // A session that served (finished a job or a pass) and then lost the server starts a fresh backoff; one that
        // fails before it serves is retried by the same backoff, so a server that keeps dropping does not spin a worker.
        var session = new WorkerSession();
        ResiliencePipeline reconnect = new ResiliencePipelineBuilder { TimeProvider = Options.TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && !session.HasServed && PostgresConnectionLoss.Is(e) && !cancellationToken.IsCancellationRequested),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.ReconnectDelay,
                MaxDelay = Options.MaxReconnectDelay,
                OnRetry = args =>
                {
                    session.Retried = true;
                    _database.DataSource.Clear();
                    QueueLog.ReconnectScheduled(Logger, Options.WorkerName, server, PostgresConnectionLoss.Reason(args.Outcome.Exception!), args.AttemptNumber + 1, args.RetryDelay);
                    return default;
                },
            })
            .Build();

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await reconnect.ExecuteAsync(token => new ValueTask(RunSessionAsync(pipeline, session, server, token)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (session.HasServed && PostgresConnectionLoss.Is(ex) && !cancellationToken.IsCancellationRequested)
            {
                QueueLog.ConnectionLost(Logger, Options.WorkerName, server, PostgresConnectionLoss.Reason(ex));
                _database.DataSource.Clear();
                session.Retried = true;
            }
        }
    }

    /// <summary>
    /// Checks once per queue that the connections lead each to a server session of its own: a pooler in transaction
    /// or statement mode (PgBouncer's <c>pool_mode = transaction</c>) hands a connection's statements to whichever
    /// server session is free, where session advisory locks (the claims) and LISTEN (the wake-ups) do not hold.
    /// </summary>
    /// <remarks>
    /// The check: connection A reads its backend, then connection B, both open, reads its backend inside a
    /// transaction (pinning that session), then A reads its backend again. Directly to PostgreSQL (or through session
    /// pooling), A keeps one backend and B has another; through transaction pooling, B is handed the session A just
    /// released, or A is moved to another one, or the pooler refuses the transaction (statement mode).
    /// </remarks>
    internal async Task EnsureSessionsAsync(CancellationToken cancellationToken)
    {
        if (_sessionsChecked)
        {
            return;
        }

        await using NpgsqlConnection a = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlConnection b = await _database.OpenRawAsync(cancellationToken).ConfigureAwait(false);
        int a1 = await BackendAsync(a, null, cancellationToken).ConfigureAwait(false);
        int b1, a2;
        try
        {
            await using NpgsqlTransaction pinned = await b.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            b1 = await BackendAsync(b, pinned, cancellationToken).ConfigureAwait(false);
            try
            {
                a2 = await BackendAsync(a, null, cancellationToken, timeoutSeconds: 10).ConfigureAwait(false);
            }
            catch (NpgsqlException ex) when (ex is not PostgresException && ex.InnerException is TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // A waited for the one server session that B's transaction holds: a pool of one session, shared.
                throw Pooler("a statement on one open connection waited for another connection's transaction to end", ex);
            }

            await pinned.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (!PostgresConnectionLoss.Is(ex) || ex.SqlState == PostgresErrorCodes.ProtocolViolation)
        {
            throw Pooler($"the server refused a transaction block ({ex.SqlState}: {ex.MessageText})", ex);
        }

        if (a1 == b1)
        {
            throw Pooler($"two connections open at once ran on one server session (backend {a1})", null);
        }

        if (a1 != a2)
        {
            throw Pooler($"two statements on one open connection ran on different server sessions (backends {a1} and {a2})", null);
        }

        _sessionsChecked = true;
    }

    private static async Task<int> BackendAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken, int timeoutSeconds = 30)
    {
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid();", connection, transaction) { CommandTimeout = timeoutSeconds };
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private PostgresPoolerException Pooler(string evidence, Exception? inner) => new(
        $"The build queue cannot run through {_database.Location}: the connection string leads to a connection pooler in transaction or statement pooling mode (PgBouncer with pool_mode = transaction, or alike), not to one server session per connection: {evidence}. " +
        "The queue's claims are session advisory locks and its wake-ups use LISTEN, which hold only on a session of their own; through transaction pooling two workers could build the same user and pay for its calls twice. " +
        "Connect the queue directly to PostgreSQL, or through a pool in session mode (PgBouncer pool_mode = session): give the PostgresBuildQueue a data source of its own with that connection string. The stores may keep using the transaction pool.",
        inner);

    private async Task RunSessionAsync(RpmPipeline pipeline, WorkerSession session, string server, CancellationToken cancellationToken)
    {
        session.Served = false;
        session.Finished = new StrongBox<int>();
        await EnsureSessionsAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlConnection listener = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel};", listener))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (session.Retried)
        {
            session.Retried = false;
            QueueLog.Reconnected(Logger, Options.WorkerName, server);
        }

        while (true)
        {
            await ProcessPendingCoreAsync(pipeline, session.Finished, cancellationToken).ConfigureAwait(false);
            session.Served = true;
            await listener.WaitAsync(Options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ProcessPendingCoreAsync(RpmPipeline pipeline, StrongBox<int> finished, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PostgresBuildClaim? claim = await TryClaimNextAsync(cancellationToken).ConfigureAwait(false);
            if (claim is null)
            {
                return;
            }

            await using (claim.ConfigureAwait(false))
            {
                await PostgresBuildJobRunner.RunAsync(pipeline, claim, cancellationToken).ConfigureAwait(false);
                finished.Value++;
            }
        }
    }

    /// <summary>The state of a worker's connection between reconnection attempts.</summary>
    private sealed class WorkerSession
    {
        public volatile bool Served;
        public volatile bool Retried;
        public StrongBox<int> Finished = new();

        /// <summary>Gets whether the session did work (finished a job, or a whole pass) before it ended.</summary>
        public bool HasServed => Served || Volatile.Read(ref Finished.Value) > 0;
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
