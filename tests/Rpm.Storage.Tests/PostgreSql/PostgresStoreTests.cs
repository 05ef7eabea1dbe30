using Npgsql;
using Rpm.Storage.Tests.Infrastructure;

namespace Rpm.Storage.Tests.PostgreSql;

/// <summary>The store contract against a real PostgreSQL server (a throw-away database for this class).</summary>
public sealed class PostgresStoreTests : StoreContractTests, IClassFixture<PostgresDatabaseFixture>, IAsyncDisposable
{
    private readonly PostgresDatabaseFixture _database;
    private readonly List<NpgsqlDataSource> _dataSources = [];

    public PostgresStoreTests(PostgresDatabaseFixture database)
    {
        _database = database;
    }

    protected override string StopFailingWritesSql => "DROP TRIGGER IF EXISTS rpm_test_fail ON rpm_user_models;";

    public async ValueTask DisposeAsync()
    {
        foreach (NpgsqlDataSource dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }
    }

    protected override (IUserModelStore Models, IBuildCheckpointStore Checkpoints) OpenStores()
    {
        // A data source (connection pool) per opening, like separate processes.
        NpgsqlDataSource dataSource = _database.CreateDataSource();
        _dataSources.Add(dataSource);
        return (new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));
    }

    protected override Task ExecuteSqlAsync(string sql) => PostgresSql.ExecuteAsync(_database.ConnectionString, sql);

    protected override string FailWritesOfUserSql(string userId) => $"""
        CREATE OR REPLACE FUNCTION rpm_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
        CREATE TRIGGER rpm_test_fail AFTER INSERT OR UPDATE ON rpm_user_models FOR EACH ROW WHEN (NEW.user_id = '{userId}') EXECUTE FUNCTION rpm_test_fail();
        """;

    protected override Task GarbleJsonAsync(string userId) =>
        ExecuteSqlAsync($"UPDATE rpm_user_models SET model_json = left(model_json, 40) WHERE user_id = '{userId}';");

    protected override Task FlipEmbeddingByteAsync(string userId) =>
        ExecuteSqlAsync($"UPDATE rpm_user_models SET embeddings = set_byte(embeddings, 10, get_byte(embeddings, 10) # 255) WHERE user_id = '{userId}';");
}

/// <summary>Raw SQL on a PostgreSQL database, outside the stores.</summary>
internal static class PostgresSql
{
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
