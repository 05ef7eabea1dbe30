using Microsoft.Data.Sqlite;
using Rpm.Storage.Tests.Infrastructure;

namespace Rpm.Storage.Tests.Sqlite;

/// <summary>The store contract over a real SQLite file.</summary>
public sealed class SqliteStoreTests : StoreContractTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => _directory.File("rpm.db");

    protected override string StopFailingWritesSql => "DROP TRIGGER IF EXISTS rpm_test_fail_update; DROP TRIGGER IF EXISTS rpm_test_fail_insert;";

    public void Dispose() => _directory.Dispose();

    protected override (IUserModelStore Models, IBuildCheckpointStore Checkpoints) OpenStores() =>
        (new SqliteUserModelStore(DatabasePath), new SqliteBuildCheckpointStore(DatabasePath));

    protected override async Task ExecuteSqlAsync(string sql) => await SqliteSql.ExecuteAsync(DatabasePath, sql);

    protected override string FailWritesOfUserSql(string userId) => $"""
        CREATE TRIGGER rpm_test_fail_update AFTER UPDATE ON rpm_user_models WHEN NEW.user_id = '{userId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
        CREATE TRIGGER rpm_test_fail_insert AFTER INSERT ON rpm_user_models WHEN NEW.user_id = '{userId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
        """;

    protected override Task GarbleJsonAsync(string userId) =>
        ExecuteSqlAsync($"UPDATE rpm_user_models SET model_json = substr(model_json, 1, 40) WHERE user_id = '{userId}';");

    protected override async Task FlipEmbeddingByteAsync(string userId)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        using SqliteCommand read = connection.CreateCommand();
        read.CommandText = $"SELECT embeddings FROM rpm_user_models WHERE user_id = '{userId}';";
        byte[] blob = (byte[])(await read.ExecuteScalarAsync())!;
        blob[10] ^= 0xFF;
        using SqliteCommand write = connection.CreateCommand();
        write.CommandText = $"UPDATE rpm_user_models SET embeddings = $blob WHERE user_id = '{userId}';";
        write.Parameters.Add("$blob", SqliteType.Blob).Value = blob;
        await write.ExecuteNonQueryAsync();
    }
}

/// <summary>Raw SQL on a SQLite file, outside the stores.</summary>
internal static class SqliteSql
{
    public static async Task ExecuteAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
