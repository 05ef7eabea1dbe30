using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>
/// Keeps user models in a local SQLite file (WAL mode): the embedded default for one host. Every part of a model is
/// kept; embeddings are stored as binary. Saves are atomic and versioned (optimistic concurrency), also across
/// processes sharing the file.
/// </summary>
/// <remarks>
/// The schema is created or migrated on first use (<see cref="SqliteRpmSchema"/>). A row that cannot be read is
/// reported as <see cref="InvalidDataException"/> naming the user; other users' models stay readable. The type is
/// thread-safe; pair it with <see cref="SqliteBuildCheckpointStore"/> over the same file.
/// </remarks>
public sealed class SqliteUserModelStore : IUserModelStore
{
    private readonly SqliteDatabase _database;

    /// <summary>Initializes a new instance of the <see cref="SqliteUserModelStore"/> class over a database file.</summary>
    /// <param name="path">The database file; created with its folder when missing.</param>
    public SqliteUserModelStore(string path)
        : this(new SqliteStoreOptions { Path = path })
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SqliteUserModelStore"/> class.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public SqliteUserModelStore(SqliteStoreOptions options)
        : this(new SqliteDatabase(options))
    {
    }

    internal SqliteUserModelStore(SqliteDatabase database)
    {
        _database = database;
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string Path => _database.FullPath;

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The user's stored model is corrupt or of a newer format; the message names the user.</exception>
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT version, model_json, embeddings, checksum FROM rpm_user_models WHERE user_id = $user;";
        command.Parameters.AddWithValue("$user", userId);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        long version;
        string json;
        byte[] embeddings;
        byte[] checksum;
        try
        {
            version = reader.GetInt64(0);
            json = reader.GetString(1);
            embeddings = reader.GetFieldValue<byte[]>(2);
            checksum = reader.GetFieldValue<byte[]>(3);
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or SqliteException)
        {
            throw new InvalidDataException($"The stored user model of '{userId}' in {_database.Location} is corrupt: a column has the wrong type ({ex.Message}). Other users' models are not affected; delete this user's model and rebuild it.", ex);
        }

        return UserModelRecord.Decode(userId, version, json, embeddings, checksum, _database.Location);
    }

    /// <inheritdoc />
    /// <remarks>Reads the version without migrating (<see cref="SqliteRpmSchema.CurrentVersion"/> is what this library writes).</remarks>
    public async Task<int?> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await _database.OpenRawAsync(cancellationToken).ConfigureAwait(false);
        int version = await _database.GuardAsync(() => SqliteDatabase.ReadVersionAsync(connection, null, cancellationToken)).ConfigureAwait(false);
        return version <= SqliteRpmSchema.CurrentVersion
            ? version
            : throw new RpmStoreSchemaException(_database.Location, version, SqliteRpmSchema.CurrentVersion, SqliteRpmSchema.PackageName);
    }

    /// <inheritdoc />
    /// <remarks>Reads the row's version and checksum (the SHA-256 of the stored model with its version): under 100 bytes, whatever the size of the model.</remarks>
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT version, checksum FROM rpm_user_models WHERE user_id = $user;";
        command.Parameters.AddWithValue("$user", userId);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            return UserModelRecord.ETag(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1));
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or SqliteException)
        {
            throw new InvalidDataException($"The stored user model of '{userId}' in {_database.Location} is corrupt: a column has the wrong type ({ex.Message}). Other users' models are not affected; delete this user's model and rebuild it.", ex);
        }
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (expectedVersion is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, "The expected version must be 0 (no model yet), a stored version, or null.");
        }

        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);

        // BEGIN IMMEDIATE takes the file's write lock first, so the version read below cannot change before the write.
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        long current;
        using (SqliteCommand read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT version FROM rpm_user_models WHERE user_id = $user;";
            read.Parameters.AddWithValue("$user", model.UserId);
            current = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long stored ? stored : 0;
        }

        if (expectedVersion is long expected && expected != current)
        {
            throw new UserModelConcurrencyException(model.UserId, expected, current);
        }

        long next = current + 1;
        UserModelRecord record = UserModelRecord.Encode(model, next);
        using (SqliteCommand write = connection.CreateCommand())
        {
            write.Transaction = transaction;
            write.CommandText = """
                INSERT INTO rpm_user_models (user_id, version, format_version, task_name, path_count, model_json, embeddings, checksum, updated_at)
                VALUES ($user, $version, $format, $task, $paths, $json, $embeddings, $checksum, $at)
                ON CONFLICT (user_id) DO UPDATE SET
                    version = excluded.version, format_version = excluded.format_version, task_name = excluded.task_name,
                    path_count = excluded.path_count, model_json = excluded.model_json, embeddings = excluded.embeddings,
                    checksum = excluded.checksum, updated_at = excluded.updated_at;
                """;
            write.Parameters.AddWithValue("$user", record.UserId);
            write.Parameters.AddWithValue("$version", next);
            write.Parameters.AddWithValue("$format", record.FormatVersion);
            write.Parameters.AddWithValue("$task", record.TaskName);
            write.Parameters.AddWithValue("$paths", record.PathCount);
            write.Parameters.AddWithValue("$json", record.ModelJson);
            write.Parameters.Add("$embeddings", SqliteType.Blob).Value = record.Embeddings;
            write.Parameters.Add("$checksum", SqliteType.Blob).Value = record.Checksum;
            write.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // A cancellation that arrives before the commit rolls the whole save back.
        cancellationToken.ThrowIfCancellationRequested();
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return model.WithVersion(next);
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM rpm_user_models WHERE user_id = $user;";
        command.Parameters.AddWithValue("$user", userId);
        bool deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;

        // The model's text must leave the -wal file too, not only the database (erasure).
        await SqliteDatabase.TruncateWalAsync(connection, cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT user_id FROM rpm_user_models;";
        var ids = new List<string>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        // Sorted here: the contract is .NET ordinal order, which SQL collations need not match.
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}
