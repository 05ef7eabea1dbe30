using Npgsql;

namespace Rpm;

/// <summary>
/// Keeps the finished model calls of builds in progress in a PostgreSQL database, so that a build interrupted by a
/// crash, a cancellation or a model outage resumes, on any host, without paying for them again.
/// </summary>
/// <remarks>Each entry is written by one statement (its own transaction) the moment its call finishes.</remarks>
public sealed class PostgresBuildCheckpointStore : IBuildCheckpointStore
{
    private readonly PostgresDatabase _database;

    /// <summary>Initializes a new instance of the <see cref="PostgresBuildCheckpointStore"/> class.</summary>
    /// <param name="dataSource">The database; not disposed by the store.</param>
    public PostgresBuildCheckpointStore(NpgsqlDataSource dataSource)
        : this(new PostgresDatabase(dataSource))
    {
    }

    internal PostgresBuildCheckpointStore(PostgresDatabase database)
    {
        _database = database;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<IReadOnlyDictionary<string, string>> LoadAsync(string userId, string buildKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(buildKey);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT entry_key, value FROM rpm_build_checkpoints WHERE user_id = @user AND build_key = @build;", connection);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("build", buildKey);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries[reader.GetString(0)] = reader.GetString(1);
        }

        return entries;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task SaveAsync(string userId, string buildKey, string entryKey, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(buildKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(entryKey);
        ArgumentNullException.ThrowIfNull(value);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rpm_build_checkpoints (user_id, build_key, entry_key, value) VALUES (@user, @build, @entry, @value)
            ON CONFLICT (user_id, build_key, entry_key) DO UPDATE SET value = excluded.value, saved_at = now();
            """,
            connection);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("build", buildKey);
        command.Parameters.AddWithValue("entry", entryKey);
        command.Parameters.AddWithValue("value", value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task ClearAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("DELETE FROM rpm_build_checkpoints WHERE user_id = @user;", connection);
        command.Parameters.AddWithValue("user", userId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
