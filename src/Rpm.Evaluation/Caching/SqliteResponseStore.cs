using Microsoft.Data.Sqlite;

namespace Rpm.Evaluation;

/// <summary>
/// A local SQLite file that keeps every model answer of an evaluation, keyed by method scope, model and prompt, so that
/// an interrupted or repeated run pays for nothing twice. Each answer is committed as soon as it is accepted. One process
/// at a time holds a cache file (a second gets <see cref="AnswerCacheInUseException"/>). Thread-safe.
/// </summary>
internal sealed class SqliteResponseStore : IAsyncDisposable, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _disposed;

    private readonly FileStream _lock;

    // Marks the answers this store wrote, so that a read can tell an earlier run's answer from one this run already
    // received (rpm-fallback reading rpm's build, a repeated prompt): only the first is a saving from the cache.
    private readonly string _runId = Guid.NewGuid().ToString("N");
    private long _saved;
    private long _failedWrites;

    private SqliteResponseStore(SqliteConnection connection, string path, FileStream lockFile)
    {
        _connection = connection;
        Path = path;
        _lock = lockFile;
    }

    /// <summary>Gets the database file.</summary>
    public string Path { get; }

    /// <summary>Gets how many answers this store has committed since it was opened.</summary>
    public long SavedThisRun => Interlocked.Read(ref _saved);

    /// <summary>Gets how many answers this store failed to write since it was opened (each will be asked, and paid for, again).</summary>
    public long FailedWrites => Interlocked.Read(ref _failedWrites);

    /// <summary>Limits the file to its present size plus <paramref name="extraPages"/> pages: SQLite then fails a write with SQLITE_FULL, as on a full disk. For tests.</summary>
    /// <param name="extraPages">The pages the file may still grow by.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the limit is set.</returns>
    internal async Task LimitSizeAsync(int extraPages, CancellationToken cancellationToken = default)
    {
        await using SqliteCommand count = _connection.CreateCommand();
        count.CommandText = "PRAGMA page_count";
        long pages = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
        await using SqliteCommand limit = _connection.CreateCommand();
        limit.CommandText = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PRAGMA max_page_count = {pages + extraPages}");
        await limit.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens (creating when missing) the cache file.</summary>
    /// <param name="path">The file; its folder is created when missing.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The store.</returns>
    public static async Task<SqliteResponseStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);

        // One process per cache file: two runs on one output folder would each pay for the calls the other is making.
        // The lock is the operating system's (released when the process ends, however it ends).
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
        {
            throw AnswerCacheInUseException.For(full, ex);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using SqliteCommand command = connection.CreateCommand();
            command.CommandText =
                """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS responses (
                    key TEXT PRIMARY KEY,
                    scope TEXT NOT NULL,
                    model TEXT NOT NULL,
                    response TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                """;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // Caches written before run_id existed gain the column; their answers all count as an earlier run's.
            await using SqliteCommand columns = connection.CreateCommand();
            columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('responses') WHERE name = 'run_id'";
            if ((long)(await columns.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L) == 0)
            {
                await using SqliteCommand alter = connection.CreateCommand();
                alter.CommandText = "ALTER TABLE responses ADD COLUMN run_id TEXT";
                await alter.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SqliteException ex) when (StorageWriteException.IsStorageFailure(ex))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            await lockFile.DisposeAsync().ConfigureAwait(false);
            throw new StorageWriteException(full, $"The answer cache '{full}' cannot be written: {ex.Message.TrimEnd('.')}.", saved: 0, lost: 0, ex);
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            await lockFile.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"Cannot open the answer cache '{full}': {ex.Message}. Delete the file to start afresh, or pass another --cache path.", ex);
        }

        return new SqliteResponseStore(connection, full, lockFile);
    }

    /// <summary>Reads a stored answer.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The stored JSON, or <see langword="null"/>.</returns>
    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        (await ReadAsync(key, cancellationToken).ConfigureAwait(false))?.Response;

    /// <summary>Reads a stored answer and whether this store wrote it (this run received it) rather than an earlier run.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The stored JSON and its origin, or <see langword="null"/>.</returns>
    public async Task<(string Response, bool WrittenThisRun)?> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT response, run_id FROM responses WHERE key = $key";
            command.Parameters.AddWithValue("$key", key);
            await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return (reader.GetString(0), !reader.IsDBNull(1) && reader.GetString(1) == _runId);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stores an answer (replacing any with the same key) and commits it.</summary>
    /// <param name="key">The key.</param>
    /// <param name="scope">The method scope, kept for inspection.</param>
    /// <param name="model">The model, kept for inspection.</param>
    /// <param name="response">The answer as JSON.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>A task that completes when the answer is committed.</returns>
    /// <exception cref="StorageWriteException">The file cannot be written (a full disk, a read-only or failing one).</exception>
    public async Task SetAsync(string key, string scope, string model, string response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(response);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO responses (key, scope, model, response, created_at, run_id) VALUES ($key, $scope, $model, $response, $created, $run)";
            command.Parameters.AddWithValue("$run", _runId);
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$scope", scope ?? string.Empty);
            command.Parameters.AddWithValue("$model", model ?? string.Empty);
            command.Parameters.AddWithValue("$response", response);
            command.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _saved);
            }
            catch (Exception ex) when (ex is SqliteException s && StorageWriteException.IsStorageFailure(s) || ex is IOException or UnauthorizedAccessException)
            {
                long lost = Interlocked.Increment(ref _failedWrites);
                throw new StorageWriteException(Path, $"The answer cache '{Path}' cannot be written: {ex.Message.TrimEnd('.')}.", SavedThisRun, lost, ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Counts the stored answers.</summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The count.</returns>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM responses";
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _gate.Wait();
        _disposed = true;
        _connection.Dispose();
        _lock.Dispose();
        _gate.Release();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        _disposed = true;
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _lock.DisposeAsync().ConfigureAwait(false);
        _gate.Release();
    }
}
