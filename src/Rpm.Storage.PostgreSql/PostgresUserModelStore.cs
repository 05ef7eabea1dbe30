using Npgsql;
using NpgsqlTypes;

namespace Rpm;

/// <summary>
/// Keeps user models in a PostgreSQL database that several processes and hosts share. Every part of a model is
/// kept; embeddings are stored as binary (<c>bytea</c>). Saves are atomic and versioned (optimistic concurrency).
/// </summary>
/// <remarks>
/// The schema is created or migrated on first use (<see cref="PostgresRpmSchema"/>). A row that cannot be read is
/// reported as <see cref="InvalidDataException"/> naming the user; other users' models stay readable. The type is
/// thread-safe; the caller owns the data source.
/// </remarks>
public sealed class PostgresUserModelStore : IUserModelStore
{
    private readonly PostgresDatabase _database;

    /// <summary>Initializes a new instance of the <see cref="PostgresUserModelStore"/> class.</summary>
    /// <param name="dataSource">The database (<c>NpgsqlDataSource.Create(connectionString)</c>); not disposed by the store.</param>
    public PostgresUserModelStore(NpgsqlDataSource dataSource)
        : this(new PostgresDatabase(dataSource))
    {
    }

    internal PostgresUserModelStore(PostgresDatabase database)
    {
        _database = database;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The user's stored model is corrupt or of a newer format; the message names the user.</exception>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT version, model_json, embeddings, checksum FROM rpm_user_models WHERE user_id = @user;", connection);
        command.Parameters.AddWithValue("user", userId);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        long version = reader.GetInt64(0);
        string json = reader.GetString(1);
        byte[] embeddings = reader.GetFieldValue<byte[]>(2);
        byte[] checksum = reader.GetFieldValue<byte[]>(3);
        return UserModelRecord.Decode(userId, version, json, embeddings, checksum, _database.Location);
    }

    /// <inheritdoc />
    /// <remarks>Reads the row's version and checksum (the SHA-256 of the stored model with its version): under 100 bytes, whatever the size of the model.</remarks>
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM rpm_user_models WHERE user_id = @user;", connection);
        command.Parameters.AddWithValue("user", userId);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? UserModelRecord.ETag(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1))
            : null;
    }

    /// <inheritdoc />
    /// <remarks>Reads the version without migrating (<see cref="PostgresRpmSchema.CurrentVersion"/> is what this library writes).</remarks>
    public async Task<int?> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection connection = await _database.OpenRawAsync(cancellationToken).ConfigureAwait(false);
        int version = await PostgresDatabase.ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
        return version <= PostgresRpmSchema.CurrentVersion
            ? version
            : throw new RpmStoreSchemaException(_database.Location, version, PostgresRpmSchema.CurrentVersion, PostgresRpmSchema.PackageName);
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (expectedVersion is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, "The expected version must be 0 (no model yet), a stored version, or null.");
        }

        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            long? current;
            await using (var read = new NpgsqlCommand("SELECT version FROM rpm_user_models WHERE user_id = @user FOR UPDATE;", connection, transaction))
            {
                read.Parameters.AddWithValue("user", model.UserId);
                current = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long?;
            }

            if (expectedVersion is long expected && expected != (current ?? 0))
            {
                throw new UserModelConcurrencyException(model.UserId, expected, current ?? 0);
            }

            long next = (current ?? 0) + 1;
            UserModelRecord record = UserModelRecord.Encode(model, next);
            string sql = current is null
                ? """
                  INSERT INTO rpm_user_models (user_id, version, format_version, task_name, path_count, model_json, embeddings, checksum, updated_at)
                  VALUES (@user, @version, @format, @task, @paths, @json, @embeddings, @checksum, now())
                  ON CONFLICT (user_id) DO NOTHING;
                  """
                : """
                  UPDATE rpm_user_models SET version = @version, format_version = @format, task_name = @task, path_count = @paths,
                      model_json = @json, embeddings = @embeddings, checksum = @checksum, updated_at = now()
                  WHERE user_id = @user;
                  """;
            int written;
            await using (var write = new NpgsqlCommand(sql, connection, transaction))
            {
                write.Parameters.AddWithValue("user", record.UserId);
                write.Parameters.AddWithValue("version", next);
                write.Parameters.AddWithValue("format", record.FormatVersion);
                write.Parameters.AddWithValue("task", record.TaskName);
                write.Parameters.AddWithValue("paths", record.PathCount);
                write.Parameters.AddWithValue("json", record.ModelJson);
                write.Parameters.AddWithValue("embeddings", NpgsqlDbType.Bytea, record.Embeddings);
                write.Parameters.AddWithValue("checksum", NpgsqlDbType.Bytea, record.Checksum);
                written = await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (written == 1)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return model.WithVersion(next);
            }

            // Another writer inserted the user's first model after the read above; its row is committed and
            // visible now. With a version check this is a conflict; without, read it again and overwrite it.
            if (expectedVersion is long expectedNone)
            {
                await using var actual = new NpgsqlCommand("SELECT version FROM rpm_user_models WHERE user_id = @user;", connection, transaction);
                actual.Parameters.AddWithValue("user", model.UserId);
                long found = await actual.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long? ?? 0;
                throw new UserModelConcurrencyException(model.UserId, expectedNone, found);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("DELETE FROM rpm_user_models WHERE user_id = @user;", connection);
        command.Parameters.AddWithValue("user", userId);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The server cannot be reached.</exception>
    public async Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default)
    {
        await using NpgsqlConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT user_id FROM rpm_user_models;", connection);
        var ids = new List<string>();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetString(0));
        }

        // Sorted here: the contract is .NET ordinal order, which the database's collation need not match.
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}
