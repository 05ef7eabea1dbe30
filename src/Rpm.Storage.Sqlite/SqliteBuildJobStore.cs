using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace Rpm;

/// <summary>
/// Keeps background build jobs (Rpm.Hosting's <c>AddBackgroundBuilds()</c>) in the SQLite file of the stores, so
/// queued and interrupted jobs survive a restart and resume from their checkpoints.
/// </summary>
/// <remarks>
/// A job's queued history is kept only until the job finishes (then emptied), and <see cref="DeleteUserAsync"/>
/// removes every job of the user. Enqueue and start run in <c>BEGIN IMMEDIATE</c> transactions, so two processes on
/// one file never start the same job twice.
/// </remarks>
public sealed class SqliteBuildJobStore : IRpmBuildJobStore
{
    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance of the <see cref="SqliteBuildJobStore"/> class.</summary>
    /// <param name="options">The options; validated here. Use the same file as <see cref="SqliteUserModelStore"/>.</param>
    /// <param name="timeProvider">The clock for the jobs' times, or <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public SqliteBuildJobStore(SqliteStoreOptions options, TimeProvider? timeProvider = null)
    {
        _database = new SqliteDatabase(options);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string Path => _database.FullPath;

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<RpmBuildJob> EnqueueAsync(RpmBuildRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using (SqliteCommand find = connection.CreateCommand())
        {
            find.Transaction = transaction;
            find.CommandText = $"SELECT {Columns} FROM rpm_build_jobs WHERE user_id = $user AND work_key = $work AND state IN ('Pending', 'Running') ORDER BY job_id LIMIT 1;";
            find.Parameters.AddWithValue("$user", request.UserId);
            find.Parameters.AddWithValue("$work", request.WorkKey);
            await using SqliteDataReader reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return Read(reader);
            }
        }

        using SqliteCommand insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"""
            INSERT INTO rpm_build_jobs (user_id, work_key, state, history_count, enqueued_at, task_json, history_json)
            VALUES ($user, $work, 'Pending', $count, $at, $task, $history) RETURNING {Columns};
            """;
        insert.Parameters.AddWithValue("$user", request.UserId);
        insert.Parameters.AddWithValue("$work", request.WorkKey);
        insert.Parameters.AddWithValue("$count", request.History.Count);
        insert.Parameters.AddWithValue("$at", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        insert.Parameters.AddWithValue("$task", JsonSerializer.Serialize(request.Task, RpmJson.RpmTask));
        insert.Parameters.AddWithValue("$history", JsonSerializer.Serialize([.. request.History], SqliteJobJsonContext.Default.ListHistoryItem));
        RpmBuildJob job;
        await using (SqliteDataReader reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            job = Read(reader);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return job;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<RpmBuildJob?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        if (!long.TryParse(jobId, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
        {
            return null;
        }

        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM rpm_build_jobs WHERE job_id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<(RpmBuildJob Job, RpmBuildRequest Request)?> TryStartNextAsync(CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;

        // One running job per user: a user's later job waits for the earlier one.
        command.CommandText = $"""
            UPDATE rpm_build_jobs SET state = 'Running', attempts = attempts + 1, started_at = $at
            WHERE job_id = (SELECT j.job_id FROM rpm_build_jobs j WHERE j.state = 'Pending'
                AND NOT EXISTS (SELECT 1 FROM rpm_build_jobs r WHERE r.user_id = j.user_id AND r.state = 'Running') ORDER BY j.job_id LIMIT 1)
            RETURNING {Columns}, task_json, history_json;
            """;
        command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        (RpmBuildJob, RpmBuildRequest)? started = null;
        await using (SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                RpmBuildJob job = Read(reader);
                RpmTask task = JsonSerializer.Deserialize(reader.GetString(ColumnCount), RpmJson.RpmTask)!;
                List<HistoryItem> history = JsonSerializer.Deserialize(reader.GetString(ColumnCount + 1), SqliteJobJsonContext.Default.ListHistoryItem)!;
                started = (job, new RpmBuildRequest(job.UserId, task, history));
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return started;
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public Task CompleteAsync(string jobId, long modelVersion, CancellationToken cancellationToken = default) =>
        FinishAsync(jobId, "Succeeded", modelVersion, error: null, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public Task FailAsync(string jobId, string error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        return FinishAsync(jobId, "Failed", modelVersion: null, error, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<int> RequeueRunningAsync(CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "UPDATE rpm_build_jobs SET state = 'Pending' WHERE state = 'Running';";
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="RpmStoreException">The file cannot be used.</exception>
    public async Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM rpm_build_jobs WHERE user_id = $user;";
        command.Parameters.AddWithValue("$user", userId);
        int deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await SqliteDatabase.TruncateWalAsync(connection, cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    private const string Columns = "job_id, user_id, state, history_count, attempts, model_version, enqueued_at, started_at, finished_at, error";

    private const int ColumnCount = 10;

    private async Task FinishAsync(string jobId, string state, long? modelVersion, string? error, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        await using SqliteConnection connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        using SqliteCommand command = connection.CreateCommand();

        // The queued history is needed no longer: drop it rather than keep users' text in the queue.
        command.CommandText = "UPDATE rpm_build_jobs SET state = $state, model_version = $version, error = $error, finished_at = $at, history_json = '[]' WHERE job_id = $id;";
        command.Parameters.AddWithValue("$state", state);
        command.Parameters.AddWithValue("$version", (object?)modelVersion ?? DBNull.Value);
        command.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$id", long.Parse(jobId, NumberStyles.None, CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static RpmBuildJob Read(SqliteDataReader reader) =>
        new(reader.GetInt64(0).ToString(CultureInfo.InvariantCulture), reader.GetString(1), Enum.Parse<RpmBuildJobState>(reader.GetString(2)), reader.GetInt32(3), Time(reader, 6)!.Value)
        {
            Attempts = reader.GetInt32(4),
            ModelVersion = reader.IsDBNull(5) ? null : reader.GetInt64(5),
            StartedAt = Time(reader, 7),
            FinishedAt = Time(reader, 8),
            Error = reader.IsDBNull(9) ? null : reader.GetString(9),
        };

    private static DateTimeOffset? Time(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.Parse(reader.GetString(ordinal), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}

/// <summary>Source-generated JSON metadata of the queued history.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<HistoryItem>))]
internal sealed partial class SqliteJobJsonContext : JsonSerializerContext;
