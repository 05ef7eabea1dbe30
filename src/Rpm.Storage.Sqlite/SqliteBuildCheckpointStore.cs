using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>
/// Keeps the finished model calls of builds in progress in a local SQLite file, so that a build interrupted by a
/// crash, a cancellation or a model outage resumes in a new process without paying for them again.
/// </summary>
/// <remarks>Each entry is written in its own transaction the moment its call finishes. Use the same file as <see cref="SqliteUserModelStore"/>.</remarks>
public sealed class SqliteBuildCheckpointStore : IBuildCheckpointStore
{
    private readonly SqliteDatabase _database;

    /// <summary>Initializes a new instance of the <see cref="SqliteBuildCheckpointStore"/> class over a database file.</summary>
    /// <param name="path">The database file; created with its folder when missing.</param>
    public SqliteBuildCheckpointStore(string path)
        : this(new SqliteStoreOptions { Path = path })
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SqliteBuildCheckpointStore"/> class.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public SqliteBuildCheckpointStore(SqliteStoreOptions options)
    {
        _database = new SqliteDatabase(options);
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string Path => _database.FullPath;

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<IReadOnlyDictionary<string, string>> LoadAsync(string userId, string buildKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(buildKey);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT entry_key, value FROM rpm_build_checkpoints WHERE user_id = $user AND build_key = $build;";
        command.Parameters.AddWithValue("$user", userId);
        command.Parameters.AddWithValue("$build", buildKey);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries[reader.GetString(0)] = reader.GetString(1);
        }

        return entries;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task SaveAsync(string userId, string buildKey, string entryKey, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(buildKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(entryKey);
        ArgumentNullException.ThrowIfNull(value);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO rpm_build_checkpoints (user_id, build_key, entry_key, value, saved_at) VALUES ($user, $build, $entry, $value, $at)
            ON CONFLICT (user_id, build_key, entry_key) DO UPDATE SET value = excluded.value, saved_at = excluded.saved_at;
            """;
        command.Parameters.AddWithValue("$user", userId);
        command.Parameters.AddWithValue("$build", buildKey);
        command.Parameters.AddWithValue("$entry", entryKey);
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task ClearAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM rpm_build_checkpoints WHERE user_id = $user;";
        command.Parameters.AddWithValue("$user", userId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await SqliteDatabase.TruncateWalAsync(connection, cancellationToken).ConfigureAwait(false);
    }
}
