using Npgsql;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Storage.Tests.PostgreSql;
using Rpm.Tests;

namespace Rpm.Storage.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class PostgresPipelineTests : PersistentPipelineTests, IClassFixture<PostgresDatabaseFixture>, IAsyncDisposable
{
    private readonly PostgresDatabaseFixture _database;
    private readonly List<NpgsqlDataSource> _dataSources = [];

    public PostgresPipelineTests(MiniLmFixture miniLm, PostgresDatabaseFixture database)
        : base(miniLm)
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
        NpgsqlDataSource dataSource = _database.CreateDataSource();
        _dataSources.Add(dataSource);
        return (new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));
    }

    protected override Task ExecuteSqlAsync(string sql) => PostgresSql.ExecuteAsync(_database.ConnectionString, sql);

    protected override async Task<long> CountCheckpointRowsAsync(string userId) =>
        (long)(await PostgresSql.ScalarAsync(_database.ConnectionString, $"SELECT count(*) FROM rpm_build_checkpoints WHERE user_id = '{userId}';"))!;

    protected override string FailWritesOfUserSql(string userId) => $"""
        CREATE OR REPLACE FUNCTION rpm_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
        CREATE TRIGGER rpm_test_fail AFTER INSERT OR UPDATE ON rpm_user_models FOR EACH ROW WHEN (NEW.user_id = '{userId}') EXECUTE FUNCTION rpm_test_fail();
        """;
}
