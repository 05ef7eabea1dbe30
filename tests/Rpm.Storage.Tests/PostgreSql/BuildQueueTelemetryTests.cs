using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using Rpm.Storage.TestWorker;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.PostgreSql;

/// <summary>The build queue's log events: what an operator reads of claims, completions, retries and failures.</summary>
public sealed class BuildQueueTelemetryTests : IAsyncLifetime
{
    private readonly PostgresDatabaseFixture _database = new();
    private readonly List<NpgsqlDataSource> _dataSources = [];
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public BuildQueueTelemetryTests()
    {
        _loggerFactory = new LoggerFactory([new FakeLoggerProvider(_logs)]);
    }

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync()
    {
        _loggerFactory.Dispose();
        foreach (NpgsqlDataSource dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_job_that_fails_is_logged_as_retried_then_as_failed_and_a_later_build_as_completed_with_the_user_pseudonymized()
    {
        string user = "carol-" + Guid.NewGuid().ToString("N")[..8] + "@example.com";
        string pseudonym = RpmTelemetry.PseudonymizeUserId(user);
        PostgresBuildQueue queue = Queue(o => { o.RetryDelay = TimeSpan.Zero; o.MaxAttempts = 2; o.WorkerName = "w1"; });
        await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(2));

        var down = new FakeChatClient { Fail = _ => new HttpRequestException("503 Service Unavailable") };
        Assert.Equal(2, await queue.ProcessPendingAsync(Pipeline(down)));

        Assert.Equal(2, Events(4001).Count);
        Assert.All(Events(4001), e => Assert.Equal("w1", e.GetStructuredStateValue("Worker")));
        var retried = Assert.Single(Events(4004));
        Assert.Equal(LogLevel.Warning, retried.Level);
        Assert.Equal(pseudonym, retried.GetStructuredStateValue("UserId"));
        Assert.Equal("1", retried.GetStructuredStateValue("Attempt"));
        Assert.Equal("2", retried.GetStructuredStateValue("MaxAttempts"));
        Assert.Equal("Rpm.RpmStageException", retried.GetStructuredStateValue("ErrorType"));
        Assert.Contains("503 Service Unavailable", retried.GetStructuredStateValue("Error"), StringComparison.Ordinal);
        var failed = Assert.Single(Events(4005));
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Equal("2", failed.GetStructuredStateValue("Attempts"));
        Assert.Equal("False", failed.GetStructuredStateValue("Permanent"));
        Assert.Equal(2, Events(4006).Count);

        // Enqueued again with the model back: claimed, built, completed.
        _logs.Clear();
        await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(new FakeChatClient())));
        var completed = Assert.Single(Events(4002));
        Assert.Equal(pseudonym, completed.GetStructuredStateValue("UserId"));
        Assert.Equal("2", completed.GetStructuredStateValue("Generation"));
        Assert.Equal("1", completed.GetStructuredStateValue("ModelVersion"));
        Assert.Empty(Events(4004));

        // A claim completed after the user was enqueued once more with another history: superseded (the same history
        // again joins the claimed job instead); then the stored model, once built, covers the same history enqueued again.
        _logs.Clear();
        Assert.Equal(3, await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3)));
        await using (PostgresBuildClaim claim = (await queue.TryClaimNextAsync())!)
        {
            Assert.Equal(3, await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3)));
            Assert.Equal(4, await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(2)));
            Assert.False(await claim.CompleteAsync(modelVersion: 1));
        }

        Assert.Equal("3", Assert.Single(Events(4003)).GetStructuredStateValue("Generation"));
        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(new FakeChatClient())));
        Assert.Equal("4", Assert.Single(Events(4007)).GetStructuredStateValue("Generation"));

        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Message.Contains(user, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_EmitRawUserIds_the_queue_logs_the_user_id_as_given()
    {
        string user = "dave-" + Guid.NewGuid().ToString("N")[..8];
        PostgresBuildQueue queue = Queue(o => o.EmitRawUserIds = true);
        await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(2));

        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(new FakeChatClient())));

        Assert.Equal(user, Assert.Single(Events(4001)).GetStructuredStateValue("UserId"));
        Assert.Equal(user, Assert.Single(Events(4002)).GetStructuredStateValue("UserId"));
    }

    private List<FakeLogRecord> Events(int id) => [.. _logs.GetSnapshot().Where(r => r.Id.Id == id)];

    private NpgsqlDataSource DataSource()
    {
        NpgsqlDataSource dataSource = _database.CreateDataSource();
        _dataSources.Add(dataSource);
        return dataSource;
    }

    private PostgresBuildQueue Queue(Action<PostgresBuildQueueOptions> configure)
    {
        var options = new PostgresBuildQueueOptions();
        configure(options);
        return new PostgresBuildQueue(DataSource(), options, _loggerFactory);
    }

    private RpmPipeline Pipeline(FakeChatClient chat)
    {
        NpgsqlDataSource dataSource = DataSource();
        return TestPipelines.Create(chat, new HashingEmbeddingGenerator(), store: new PostgresUserModelStore(dataSource), checkpoints: new PostgresBuildCheckpointStore(dataSource));
    }
}
