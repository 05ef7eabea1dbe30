using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>
/// The batch build's own SQLite file: every answer a batch returned (keyed by the exact request), how often each request
/// was submitted and why it went unanswered, the batches in flight (so a restarted process polls them instead of paying
/// again), the users whose models are saved, and the wave counter. The answers of built users are dropped as they
/// finish (unless kept for audit), so the file holds about one window of users' answers plus each built user's id.
/// </summary>
internal sealed class BatchStateStore
{
    private const int SchemaVersion = 1;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _init = new(1, 1);
    private bool _ready;

    public BatchStateStore(string path)
    {
        FullPath = Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string FullPath { get; }

    public async Task<string?> GetAnswerAsync(string key, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "SELECT body FROM answers WHERE key = $key", ("$key", key));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<int> CountAnswersAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "SELECT COUNT(*) FROM answers");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Saves a batch's answers and errors in one transaction; an answer, once kept, is never replaced.</summary>
    public async Task SaveResultsAsync(string? batchId, IReadOnlyDictionary<string, string> answers, IReadOnlyDictionary<string, string> errors, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (key, body) in answers)
        {
            await using SqliteCommand insert = Command(connection, "INSERT OR IGNORE INTO answers (key, body) VALUES ($key, $body)", ("$key", key), ("$body", body));
            insert.Transaction = transaction;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var (key, error) in errors)
        {
            await using SqliteCommand update = Command(connection, "UPDATE requests SET last_error = $error, last_batch = $batch WHERE key = $key", ("$key", key), ("$error", error), ("$batch", (object?)batchId ?? DBNull.Value));
            update.Transaction = transaction;
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets how often each request was submitted, and the last reason it went unanswered.</summary>
    public async Task<Dictionary<string, (int Submissions, string? LastError, string? LastBatch)>> GetSubmissionsAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, (int, string?, string?)>(StringComparer.Ordinal);
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (string key in keys)
        {
            await using SqliteCommand command = Command(connection, "SELECT submissions, last_error, last_batch FROM requests WHERE key = $key", ("$key", key));
            await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            result[key] = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2))
                : (0, null, null);
        }

        return result;
    }

    /// <summary>
    /// Records an uploaded input file before its batch is created, and counts a submission for each of its requests: a
    /// process that stops between the upload and the batch's creation finds the file here and looks for its batch.
    /// </summary>
    /// <param name="inputFileId">The uploaded file.</param>
    /// <param name="wave">The wave it belongs to.</param>
    /// <param name="keys">Its requests.</param>
    /// <param name="users">Who asked for each request: a request's answer leaves the file when all of them are built.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    public async Task AddUploadAsync(string inputFileId, int wave, IReadOnlyList<string> keys, IReadOnlyDictionary<string, HashSet<string>> users, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (SqliteCommand insert = Command(
            connection,
            "INSERT INTO batches (input_file_id, batch_id, wave, request_count, state) VALUES ($file, NULL, $wave, $count, 'uploaded')",
            ("$file", inputFileId),
            ("$wave", wave),
            ("$count", keys.Count)))
        {
            insert.Transaction = transaction;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (string key in keys)
        {
            await using (SqliteCommand member = Command(connection, "INSERT OR IGNORE INTO batch_requests (input_file_id, key) VALUES ($file, $key)", ("$file", inputFileId), ("$key", key)))
            {
                member.Transaction = transaction;
                await member.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (users.TryGetValue(key, out HashSet<string>? askers))
            {
                foreach (string user in askers)
                {
                    await using SqliteCommand asker = Command(connection, "INSERT OR IGNORE INTO request_users (user_id, key) VALUES ($user, $key)", ("$user", user), ("$key", key));
                    asker.Transaction = transaction;
                    await asker.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await using SqliteCommand upsert = Command(
                connection,
                "INSERT INTO requests (key, submissions, last_error) VALUES ($key, 1, NULL) ON CONFLICT(key) DO UPDATE SET submissions = submissions + 1",
                ("$key", key));
            upsert.Transaction = transaction;
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets the requests of a batch that have no answer.</summary>
    public async Task<List<string>> GetUnansweredAsync(string inputFileId, CancellationToken cancellationToken)
    {
        var result = new List<string>();
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(
            connection,
            "SELECT b.key FROM batch_requests b LEFT JOIN answers a ON a.key = b.key WHERE b.input_file_id = $file AND a.key IS NULL ORDER BY b.key",
            ("$file", inputFileId));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(reader.GetString(0));
        }

        return result;
    }

    public async Task SetBatchAsync(string inputFileId, string batchId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(
            connection, "UPDATE batches SET batch_id = $id, state = 'submitted' WHERE input_file_id = $file", ("$file", inputFileId), ("$id", batchId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Marks a batch read back; with <paramref name="refund"/>, takes back the submission its requests counted (a batch a
    /// limit refused asked for patience, not a new try), in the same transaction so a restart cannot refund twice.
    /// </summary>
    public async Task FinishBatchAsync(string inputFileId, string status, bool refund, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (SqliteCommand command = Command(
            connection, "UPDATE batches SET state = 'done', status = $status WHERE input_file_id = $file AND state <> 'done'", ("$file", inputFileId), ("$status", status)))
        {
            command.Transaction = transaction;
            int changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (refund && changed > 0)
            {
                await using SqliteCommand back = Command(
                    connection,
                    "UPDATE requests SET submissions = submissions - 1 WHERE submissions > 0 AND key IN (SELECT key FROM batch_requests WHERE input_file_id = $file)",
                    ("$file", inputFileId));
                back.Transaction = transaction;
                await back.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets the batches not yet finished here: uploaded (maybe created), or submitted and not yet read back.</summary>
    public async Task<List<OpenBatch>> GetOpenBatchesAsync(CancellationToken cancellationToken)
    {
        var result = new List<OpenBatch>();
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "SELECT input_file_id, batch_id, wave, request_count FROM batches WHERE state <> 'done' ORDER BY rowid");
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new OpenBatch(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
        }

        return result;
    }

    /// <summary>Gets whether a user's model was saved by a build with this file.</summary>
    public async Task<bool> IsBuiltAsync(string userId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "SELECT 1 FROM users WHERE user_id = $user", ("$user", userId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// Forgets which requests built users asked for and, when <paramref name="dropAnswers"/>, deletes the answers no
    /// user still unbuilt asked for (by this file's record, or by <paramref name="keep"/>: what the window asked in
    /// memory), with their submission counts and their places in finished batches, in one transaction; then gives the
    /// freed pages back to the file system (incremental vacuum: only free pages move, so the cost follows what was
    /// deleted, not the file's size).
    /// </summary>
    /// <param name="builtUsers">The users whose models were just saved.</param>
    /// <param name="asked">What they asked for in this process (answered from the file, or sent).</param>
    /// <param name="keep">What users still in the window, or failed, asked for in this process.</param>
    /// <param name="dropAnswers">Whether answers are deleted (false: kept for audit).</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    public async Task CompactAsync(IReadOnlyCollection<string> builtUsers, IReadOnlyCollection<string> asked, IReadOnlySet<string> keep, bool dropAnswers, CancellationToken cancellationToken)
    {
        if (builtUsers.Count == 0)
        {
            return;
        }

        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            // Asked in an earlier process too: a build resumed from its checkpoints does not ask again for what it used.
            var candidates = new HashSet<string>(asked, StringComparer.Ordinal);
            foreach (string user in builtUsers)
            {
                await using (SqliteCommand select = Command(connection, "SELECT key FROM request_users WHERE user_id = $user", ("$user", user)))
                {
                    select.Transaction = transaction;
                    await using SqliteDataReader reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        candidates.Add(reader.GetString(0));
                    }
                }

                await using SqliteCommand forget = Command(connection, "DELETE FROM request_users WHERE user_id = $user", ("$user", user));
                forget.Transaction = transaction;
                await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (dropAnswers)
            {
                foreach (string key in candidates.Where(k => !keep.Contains(k)))
                {
                    // An answer another user asked for stays until that user is built too (its row goes then, above); a
                    // request of a batch still open keeps its rows, its batch is read back by them (GetUnansweredAsync).
                    await using SqliteCommand delete = Command(
                        connection,
                        """
                        DELETE FROM answers WHERE key = $key AND NOT EXISTS (SELECT 1 FROM request_users WHERE key = $key);
                        DELETE FROM batch_requests WHERE key = $key AND NOT EXISTS (SELECT 1 FROM answers WHERE key = $key)
                            AND input_file_id IN (SELECT input_file_id FROM batches WHERE state = 'done');
                        DELETE FROM requests WHERE key = $key AND NOT EXISTS (SELECT 1 FROM answers WHERE key = $key)
                            AND NOT EXISTS (SELECT 1 FROM batch_requests WHERE key = $key);
                        """,
                        ("$key", key));
                    delete.Transaction = transaction;
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await using SqliteCommand vacuum = Command(connection, "PRAGMA incremental_vacuum");
        await vacuum.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies the write-ahead log into the file and empties it, so the file alone holds the state (and its size says how much).</summary>
    public async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task MarkBuiltAsync(string userId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "INSERT OR IGNORE INTO users (user_id) VALUES ($user)", ("$user", userId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> GetWaveAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = Command(connection, "SELECT COALESCE(MAX(wave), 0) FROM batches");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"The batch state file '{FullPath}' cannot be opened: {ex.Message}", ex);
        }

        if (!_ready)
        {
            await _init.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_ready)
                {
                    await CreateSchemaAsync(connection, cancellationToken).ConfigureAwait(false);
                    _ready = true;
                }
            }
            finally
            {
                _init.Release();
            }
        }

        return connection;
    }

    private async Task CreateSchemaAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using (SqliteCommand version = Command(connection, "PRAGMA user_version"))
        {
            int found = Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            if (found > SchemaVersion)
            {
                throw new InvalidOperationException(
                    $"The batch state file '{FullPath}' has schema version {found}, newer than this version of Rpm.OpenAI.Batch supports ({SchemaVersion}); update the package.");
            }
        }

        // Incremental auto-vacuum lets a build give back the pages of the answers it drops as users finish, a few pages
        // at a time (DropAnswersAsync), where a VACUUM rewrites the whole file under an exclusive lock. It takes effect on
        // a new file at once; a file made before it (auto_vacuum none) is converted by one VACUUM, once.
        await using (SqliteCommand set = Command(connection, "PRAGMA auto_vacuum = INCREMENTAL"))
        {
            await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (SqliteCommand autoVacuum = Command(connection, "PRAGMA auto_vacuum"))
        {
            if (Convert.ToInt32(await autoVacuum.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) != 2)
            {
                await using SqliteCommand vacuum = Command(connection, "VACUUM");
                await vacuum.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // WAL lets the answer lookups of a wave's builds read while a batch's results are written.
        await using SqliteCommand create = Command(
            connection,
            """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, submissions INTEGER NOT NULL, last_error TEXT, last_batch TEXT);
            CREATE TABLE IF NOT EXISTS batches (input_file_id TEXT PRIMARY KEY, batch_id TEXT, wave INTEGER NOT NULL, request_count INTEGER NOT NULL, state TEXT NOT NULL, status TEXT);
            CREATE TABLE IF NOT EXISTS batch_requests (input_file_id TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (input_file_id, key));
            CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS request_users (user_id TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (user_id, key)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS request_users_key ON request_users (key);
            CREATE INDEX IF NOT EXISTS batch_requests_key ON batch_requests (key);
            PRAGMA user_version = 1;
            """);
        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A batch not yet read back.</summary>
    internal sealed record OpenBatch(string InputFileId, string? BatchId, int Wave, int RequestCount);
}
