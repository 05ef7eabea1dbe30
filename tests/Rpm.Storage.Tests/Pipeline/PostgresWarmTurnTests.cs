using Npgsql;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Storage.Tests.PostgreSql;
using Rpm.Tests;

namespace Rpm.Storage.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class PostgresWarmTurnTests : WarmTurnTests, IClassFixture<PostgresDatabaseFixture>, IAsyncDisposable
{
    private readonly PostgresDatabaseFixture _database;
    private readonly List<NpgsqlDataSource> _dataSources = [];

    public PostgresWarmTurnTests(MiniLmFixture miniLm, PostgresDatabaseFixture database)
        : base(miniLm)
    {
        _database = database;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NpgsqlDataSource dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }
    }

    protected override IUserModelStore OpenStore()
    {
        NpgsqlDataSource dataSource = _database.CreateDataSource();
        _dataSources.Add(dataSource);
        return new PostgresUserModelStore(dataSource);
    }

    protected override IUserModelStore OpenUnreachableStore()
    {
        // Nothing listens on port 1 of loopback: every connection is refused, as with a server that is down.
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=postgres;Database=none;Timeout=3");
        _dataSources.Add(dataSource);
        return new PostgresUserModelStore(dataSource);
    }

    protected override Task GarbleJsonAsync(string userId) =>
        PostgresSql.ExecuteAsync(_database.ConnectionString, $"UPDATE rpm_user_models SET model_json = left(model_json, 40) WHERE user_id = '{userId}';");
}
