using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>One SQLite file used by the stores: opens configured connections, maps open failures to clear errors, and migrates the schema once.</summary>
internal sealed class SqliteDatabase
{
    // SQLite result codes (primary) that mean the file itself cannot be used.
    private const int SqlitePerm = 3;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoErr = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADb = 26;

    private readonly IReadOnlyList<SqliteMigration> _migrations;
    private readonly SemaphoreSlim _migrationGate = new(1, 1);
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private volatile bool _migrated;

    public SqliteDatabase(SqliteStoreOptions options, IReadOnlyList<SqliteMigration>? migrations = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        FullPath = System.IO.Path.GetFullPath(options.Path);
        _busyTimeoutMs = (int)options.BusyTimeout.TotalMilliseconds;
        _migrations = migrations ?? SqliteRpmSchema.Migrations;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    public string FullPath { get; }

    /// <summary>Gets the database as messages name it.</summary>
    public string Location => $"the SQLite database '{FullPath}'";

    private int SupportedVersion => _migrations.Count == 0 ? 0 : _migrations[^1].Version;

    /// <summary>Opens a connection to a file whose schema is current (migrating it on first use).</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_migrated)
        {
            await MigrateAsync(_migrations, cancellationToken).ConfigureAwait(false);
        }

        return await OpenRawAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies the write-ahead log into the file and truncates it to zero bytes, so deleted text is no longer in the
    /// -wal file (erasure). A checkpoint blocked by another connection's open read is retried within the busy timeout.
    /// </summary>
    public static async Task TruncateWalAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a configured connection without looking at the schema.</summary>
    public async Task<SqliteConnection> OpenRawAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            string? folder = System.IO.Path.GetDirectoryName(FullPath);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RpmStoreException($"Cannot open {Location}: its folder cannot be created ({ex.Message}). Check the path and the permissions of its folders.", ex);
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            await GuardAsync(async () =>
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                using SqliteCommand pragmas = connection.CreateCommand();
                // secure_delete: deleted rows (an erased user, a finished job's history) are overwritten, not left in free pages.
                pragmas.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;";
                await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs an operation that touches the file for the first time on a connection, turning "this file cannot be used" errors into <see cref="RpmStoreException"/>.</summary>
    public async Task<T> GuardAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCantOpen or SqlitePerm or SqliteNotADb or SqliteCorrupt or SqliteIoErr or SqliteReadOnly)
        {
            string hint = ex.SqliteErrorCode switch
            {
                SqliteNotADb => "the file exists but is not a SQLite database (or is encrypted). Point the store at another path, or move this file away",
                SqliteCorrupt => "the file is damaged. Restore it from a backup, or run sqlite3's .recover on a copy",
                SqliteCantOpen => Directory.Exists(FullPath)
                    ? "the path is a folder. Name a file"
                    : "SQLite cannot open or create the file. Check that the path is right, the folder exists and is writable, and the file is not locked by another program",
                SqlitePerm or SqliteReadOnly => "the file or its folder is not writable by this process. Check the permissions (the folder must be writable too, for the WAL and shared-memory files)",
                _ => "an I/O error occurred. Check the disk (space, errors) and the file's permissions",
            };
            throw new RpmStoreException($"Cannot use {Location}: {hint}. (SQLite error {ex.SqliteErrorCode}: {ex.Message})", ex);
        }
    }

    /// <summary>Brings the schema to the last version of <paramref name="migrations"/>, in one transaction.</summary>
    public async Task<int> MigrateAsync(IReadOnlyList<SqliteMigration> migrations, CancellationToken cancellationToken)
    {
        int supported = migrations.Count == 0 ? 0 : migrations[^1].Version;
        await _migrationGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using SqliteConnection connection = await OpenRawAsync(cancellationToken).ConfigureAwait(false);
            int version = await GuardAsync(async () =>
            {
                // WAL lets readers run beside the one writer; the mode is stored in the file.
                using (SqliteCommand wal = connection.CreateCommand())
                {
                    wal.CommandText = "PRAGMA journal_mode = WAL;";
                    await wal.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                }

                return await ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
            CheckNotNewer(version, supported);
            if (version < supported)
            {
                // BEGIN IMMEDIATE: one migrator at a time, across processes; re-read the version under the lock.
                await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
                version = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                CheckNotNewer(version, supported);
                await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS rpm_schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL);", cancellationToken).ConfigureAwait(false);
                foreach (SqliteMigration migration in migrations.Where(m => m.Version > version).OrderBy(m => m.Version))
                {
                    try
                    {
                        await migration.Apply(connection, transaction, cancellationToken).ConfigureAwait(false);
                    }
                    catch (SqliteException ex)
                    {
                        throw new RpmStoreException($"Migrating {Location} to schema version {migration.Version} ({migration.Description}) failed; the file stays at version {version}. {ex.Message}", ex);
                    }

                    using SqliteCommand record = connection.CreateCommand();
                    record.Transaction = transaction;
                    record.CommandText = "INSERT INTO rpm_schema_version (version, description, applied_at) VALUES ($version, $description, $at);";
                    record.Parameters.AddWithValue("$version", migration.Version);
                    record.Parameters.AddWithValue("$description", migration.Description);
                    record.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                version = supported;
            }

            if (ReferenceEquals(migrations, _migrations))
            {
                _migrated = true;
            }

            return version;
        }
        finally
        {
            _migrationGate.Release();
        }
    }

    /// <summary>Reads the schema version: 0 when the file has no <c>rpm_schema_version</c> table.</summary>
    public static async Task<int> ReadVersionAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'rpm_schema_version';";
        if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return 0;
        }

        command.CommandText = "SELECT coalesce(max(version), 0) FROM rpm_schema_version;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private void CheckNotNewer(int version, int supported)
    {
        if (version > supported)
        {
            throw new RpmStoreSchemaException(Location, version, supported, SqliteRpmSchema.PackageName);
        }
    }
}
