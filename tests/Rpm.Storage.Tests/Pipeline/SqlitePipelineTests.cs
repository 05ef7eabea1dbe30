using Rpm.Storage.Tests.Infrastructure;
using Rpm.Storage.Tests.Sqlite;
using Rpm.Tests;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class SqlitePipelineTests : PersistentPipelineTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    public SqlitePipelineTests(MiniLmFixture miniLm)
        : base(miniLm)
    {
    }

    private string DatabasePath => _directory.File("rpm.db");

    protected override string StopFailingWritesSql => "DROP TRIGGER IF EXISTS rpm_test_fail_update; DROP TRIGGER IF EXISTS rpm_test_fail_insert;";

    public void Dispose() => _directory.Dispose();

    protected override (IUserModelStore Models, IBuildCheckpointStore Checkpoints) OpenStores() =>
        (new SqliteUserModelStore(DatabasePath), new SqliteBuildCheckpointStore(DatabasePath));

    protected override Task ExecuteSqlAsync(string sql) => SqliteSql.ExecuteAsync(DatabasePath, sql);

    protected override async Task<long> CountCheckpointRowsAsync(string userId) =>
        (long)(await SqliteSql.ScalarAsync(DatabasePath, $"SELECT count(*) FROM rpm_build_checkpoints WHERE user_id = '{userId}';"))!;

    protected override string FailWritesOfUserSql(string userId) => $"""
        CREATE TRIGGER rpm_test_fail_update AFTER UPDATE ON rpm_user_models WHEN NEW.user_id = '{userId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
        CREATE TRIGGER rpm_test_fail_insert AFTER INSERT ON rpm_user_models WHEN NEW.user_id = '{userId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
        """;

    [Fact]
    public async Task A_process_killed_mid_build_is_resumed_by_another_paying_only_for_unfinished_calls()
    {
        // The child builds 6 items one call at a time and blocks after 9 answered calls (6 features, the factors,
        // 2 reasoning paths); then it is killed, as a crash would.
        using (ChildProcess child = ChildProcess.Start("sqlite-build", DatabasePath, "killed-user", "6", "9"))
        {
            string blocked = await child.WaitForLineAsync("BLOCKED");
            Assert.StartsWith("BLOCKED 9 ", blocked, StringComparison.Ordinal);
            await child.KillAsync();
        }

        Assert.Equal(9, await CountCheckpointRowsAsync("killed-user"));
        Assert.Null(await OpenStores().Models.GetAsync("killed-user"));

        var chat = new FakeChatClient();
        UserModel model = await Restart(chat).BuildUserModelAsync("killed-user", TestPipelines.Rating, TestPipelines.MovieHistory(6));

        Assert.Equal(2 * 6 + 1 - 9, chat.CallCount);
        Assert.All(chat.Requests, r => Assert.Equal(RpmStage.ReasoningPath, r.Stage));
        Assert.Equal(6, model.Paths.Count);
        Assert.Equal(1, model.Version);
    }

    [Fact]
    public async Task A_child_process_build_completes_and_its_model_is_read_here()
    {
        using ChildProcess child = ChildProcess.Start("sqlite-build", DatabasePath, "child-user", "3", "-1");
        string built = await child.WaitForLineAsync("BUILT");
        Assert.Equal("BUILT 1 7", built);
        Assert.Equal(0, await child.WaitForExitAsync());

        UserModel model = (await OpenStores().Models.GetAsync("child-user"))!;
        Assert.Equal(3, model.Paths.Count);
        Assert.All(model.Paths, p => Assert.Equal(new HashingEmbeddingGenerator().Dimensions, p.Embedding.Length));   // the child's embeddings, read back whole
    }
}
