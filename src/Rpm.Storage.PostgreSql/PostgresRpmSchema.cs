using Npgsql;

namespace Rpm;

/// <summary>
/// The schema of the PostgreSQL stores and build queue: its version, recorded in the table <c>rpm_schema_version</c>,
/// and the forward migrations that bring an older database up to date. The stores and the queue migrate on first use;
/// call <see cref="MigrateAsync"/> to do it at deployment instead.
/// </summary>
/// <remarks>
/// Tables are created in the first schema of the connection's search path (set <c>Search Path</c> in the connection
/// string to use another one). Version 1: <c>rpm_user_models</c> (one row per user: the model as JSON without
/// embeddings, the embeddings as one little-endian float32 <c>bytea</c>, a SHA-256 checksum, the store version),
/// <c>rpm_build_checkpoints</c> (one row per finished model call of a build in progress) and <c>rpm_build_jobs</c>
/// (the build queue). Migrations run in one transaction under an advisory lock, so hosts starting together migrate
/// once, and a failed migration leaves the database at its previous version.
/// </remarks>
public static class PostgresRpmSchema
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int CurrentVersion = 2;

    internal const string PackageName = "Rpm.Storage.PostgreSql";

    internal static IReadOnlyList<PostgresMigration> Migrations { get; } =
    [
        PostgresMigration.Sql(1, "User models, build checkpoints and the build queue.", """
            CREATE TABLE rpm_user_models (
                user_id text PRIMARY KEY,
                version bigint NOT NULL CHECK (version > 0),
                format_version integer NOT NULL,
                task_name text NOT NULL,
                path_count integer NOT NULL,
                model_json text NOT NULL,
                embeddings bytea NOT NULL,
                checksum bytea NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE rpm_build_checkpoints (
                user_id text NOT NULL,
                build_key text NOT NULL,
                entry_key text NOT NULL,
                value text NOT NULL,
                saved_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (user_id, build_key, entry_key)
            );
            CREATE TABLE rpm_build_jobs (
                user_id text PRIMARY KEY,
                generation bigint NOT NULL,
                task_json text NOT NULL,
                history_json text NOT NULL,
                status text NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
                attempts integer NOT NULL DEFAULT 0,
                not_before timestamptz NOT NULL DEFAULT now(),
                enqueued_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz,
                worker text,
                last_error text,
                model_version bigint
            );
            CREATE INDEX rpm_build_jobs_pending ON rpm_build_jobs (enqueued_at, user_id) WHERE status = 'pending';
            """),

        // A finished job no longer keeps the history it was built from (the model has it): only its item count.
        PostgresMigration.Sql(2, "Build jobs keep their history only until they finish.", """
            ALTER TABLE rpm_build_jobs ADD COLUMN history_count integer;
            UPDATE rpm_build_jobs SET history_count = json_array_length(history_json::json);
            ALTER TABLE rpm_build_jobs ALTER COLUMN history_count SET NOT NULL;
            UPDATE rpm_build_jobs SET history_json = '[]' WHERE status IN ('done', 'failed');
            """),
    ];

    /// <summary>Creates the schema in a database, or migrates an older one to <see cref="CurrentVersion"/>.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The schema version of the database afterwards.</returns>
    /// <exception cref="RpmStoreException">The server cannot be reached or refuses the connection; the message says what to check.</exception>
    /// <exception cref="RpmStoreSchemaException">The database's schema is newer than this library.</exception>
    public static Task<int> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return new PostgresDatabase(dataSource).MigrateAsync(Migrations, cancellationToken);
    }

    /// <summary>Reads the schema version of a database without changing it.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The version; 0 when the database has no RPM schema yet.</returns>
    /// <exception cref="RpmStoreException">The server cannot be reached or refuses the connection.</exception>
    public static async Task<int> GetVersionAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var database = new PostgresDatabase(dataSource);
        await using NpgsqlConnection connection = await database.OpenRawAsync(cancellationToken).ConfigureAwait(false);
        return await PostgresDatabase.ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
    }
}
