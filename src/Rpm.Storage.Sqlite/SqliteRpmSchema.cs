using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>
/// The schema of the SQLite stores: its version, recorded in the table <c>rpm_schema_version</c>, and the forward
/// migrations that bring an older file up to date. The stores migrate on first use; call <see cref="MigrateAsync(string, CancellationToken)"/>
/// to do it at start-up instead.
/// </summary>
/// <remarks>
/// Version 1: <c>rpm_user_models</c> (one row per user: the model as JSON without embeddings, the embeddings as one
/// little-endian float32 blob, a SHA-256 checksum, and the store version), and <c>rpm_build_checkpoints</c> (one row
/// per finished model call of a build in progress). Version 3 adds <c>rpm_build_jobs</c> (background build jobs with their queued history, which is emptied when a job finishes). Version 2: the same columns, with the small ones (version, checksum,
/// format, task, path count, time) before the model's JSON and embeddings, so an entity-tag read
/// (<see cref="IUserModelStore.GetETagAsync"/>) stops at the row's first page: SQLite keeps a row's columns in order and
/// reaches a column stored after a large value only by walking that value's overflow pages (at 5,000 history items, an
/// 11 MB row, about 6 ms a read). Migrations run in one transaction: a failed migration leaves the file at its previous
/// version.
/// </remarks>
public static class SqliteRpmSchema
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int CurrentVersion = 3;

    internal const string PackageName = "Rpm.Storage.Sqlite";

    internal static IReadOnlyList<SqliteMigration> Migrations { get; } =
    [
        SqliteMigration.Sql(1, "User models and build checkpoints.", """
            CREATE TABLE rpm_user_models (
                user_id TEXT NOT NULL PRIMARY KEY,
                version INTEGER NOT NULL CHECK (version > 0),
                format_version INTEGER NOT NULL,
                task_name TEXT NOT NULL,
                path_count INTEGER NOT NULL,
                model_json TEXT NOT NULL,
                embeddings BLOB NOT NULL,
                checksum BLOB NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE rpm_build_checkpoints (
                user_id TEXT NOT NULL,
                build_key TEXT NOT NULL,
                entry_key TEXT NOT NULL,
                value TEXT NOT NULL,
                saved_at TEXT NOT NULL,
                PRIMARY KEY (user_id, build_key, entry_key)
            );
            """),
        SqliteMigration.Sql(2, "User models' small columns before their JSON and embeddings (entity-tag reads without the model).", """
            CREATE TABLE rpm_user_models_v2 (
                user_id TEXT NOT NULL PRIMARY KEY,
                version INTEGER NOT NULL CHECK (version > 0),
                checksum BLOB NOT NULL,
                format_version INTEGER NOT NULL,
                task_name TEXT NOT NULL,
                path_count INTEGER NOT NULL,
                updated_at TEXT NOT NULL,
                model_json TEXT NOT NULL,
                embeddings BLOB NOT NULL
            );
            INSERT INTO rpm_user_models_v2 (user_id, version, checksum, format_version, task_name, path_count, updated_at, model_json, embeddings)
                SELECT user_id, version, checksum, format_version, task_name, path_count, updated_at, model_json, embeddings FROM rpm_user_models;
            DROP TABLE rpm_user_models;
            ALTER TABLE rpm_user_models_v2 RENAME TO rpm_user_models;
            """),
        SqliteMigration.Sql(3, "Background build jobs (Rpm.Hosting's queue), kept beside the models so they survive a restart.", """
            CREATE TABLE rpm_build_jobs (
                job_id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id TEXT NOT NULL,
                work_key TEXT NOT NULL,
                state TEXT NOT NULL,
                history_count INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                model_version INTEGER,
                enqueued_at TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT,
                error TEXT,
                task_json TEXT NOT NULL,
                history_json TEXT NOT NULL
            );
            CREATE INDEX rpm_build_jobs_user ON rpm_build_jobs (user_id, state);
            """),
    ];

    /// <summary>Creates the schema in a new file, or migrates an older one to <see cref="CurrentVersion"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The schema version of the file afterwards.</returns>
    /// <exception cref="RpmStoreException">The file cannot be opened or is not a SQLite database.</exception>
    /// <exception cref="RpmStoreSchemaException">The file's schema is newer than this library.</exception>
    public static Task<int> MigrateAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return MigrateAsync(new SqliteStoreOptions { Path = path }, cancellationToken);
    }

    /// <summary>Creates the schema in a new file, or migrates an older one to <see cref="CurrentVersion"/>.</summary>
    /// <param name="options">The options naming the file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The schema version of the file afterwards.</returns>
    /// <exception cref="RpmStoreException">The file cannot be opened or is not a SQLite database.</exception>
    /// <exception cref="RpmStoreSchemaException">The file's schema is newer than this library.</exception>
    public static Task<int> MigrateAsync(SqliteStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SqliteDatabase(options).MigrateAsync(Migrations, cancellationToken);
    }

    /// <summary>Reads the schema version of a file without changing it.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The version; 0 when the file has no RPM schema yet.</returns>
    /// <exception cref="RpmStoreException">The file cannot be opened or is not a SQLite database.</exception>
    public static async Task<int> GetVersionAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = path });
        await using SqliteConnection connection = await database.OpenRawAsync(cancellationToken).ConfigureAwait(false);
        return await database.GuardAsync(() => SqliteDatabase.ReadVersionAsync(connection, null, cancellationToken)).ConfigureAwait(false);
    }
}
