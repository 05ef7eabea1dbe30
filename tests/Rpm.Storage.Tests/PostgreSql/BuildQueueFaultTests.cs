using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.PostgreSql;

/// <summary>
/// The build queue when the server goes away (a restart: sessions end with 57P01, then connections are refused) and
/// when the connection string leads to PgBouncer. The restart tests run on a cluster of their own, never the shared one.
/// </summary>
public sealed class BuildQueueFaultTests : IAsyncLifetime
{
    private const int Items = 6;
    private const int CallsPerUser = (2 * Items) + 1;
    private readonly List<NpgsqlDataSource> _dataSources = [];
    private readonly List<PostgresDatabaseFixture> _databases = [];
    private readonly HashingEmbeddingGenerator _embeddings = new();
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public BuildQueueFaultTests()
    {
        _loggerFactory = new LoggerFactory([new FakeLoggerProvider(_logs)]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (NpgsqlDataSource dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }

        foreach (PostgresDatabaseFixture database in _databases)
        {
            await database.DisposeAsync();
        }

        _loggerFactory.Dispose();
    }

    [Fact]
    public async Task A_server_restart_does_not_end_a_worker_and_the_job_resumes_from_its_checkpoints()
    {
        await using PrivatePostgresCluster cluster = PrivatePostgresCluster.Start();
        NpgsqlDataSource dataSource = DataSource(cluster.ConnectionString);
        PostgresBuildQueue queue = FastQueue(dataSource);
        await queue.EnqueueAsync("restarted", TestPipelines.Rating, TestPipelines.MovieHistory(Items));

        // Two workers (two hosts, as far as the server can tell) share one model, whose fifth call blocks (the first
        // four are answered and checkpointed) until the server has restarted. The restart ends the claim of the worker
        // that builds; its build must stop, or the other worker, free to claim the user, would pay for the same calls.
        // The blocked call returns once a later call is asked (the user was claimed again), with the first host's pool
        // holding no stale connection (as after idle pruning during a long call): a build that went on without its
        // claim would save that call's checkpoint and pay for the rest a second time.
        TaskCompletionSource? releaseLater = null;
        var (chat, blocked, release) = BlockingChat(blockAtCall: 5, onLaterCall: () =>
        {
            dataSource.Clear();
            releaseLater?.TrySetResult();
        });
        releaseLater = release;
        using var stop = new CancellationTokenSource();
        Task first = Task.Run(() => queue.RunWorkerAsync(Pipeline(chat, dataSource), stop.Token));
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        NpgsqlDataSource otherHost = DataSource(cluster.ConnectionString);
        Task second = Task.Run(() => FastQueue(otherHost).RunWorkerAsync(Pipeline(chat, otherHost), stop.Token));
        Task worker = Task.WhenAny(first, second).Unwrap();

        cluster.Restart();

        await WaitUntilAsync(async () => (await queue.GetJobAsync("restarted"))?.Status == PostgresBuildJobStatus.Done, worker);
        Assert.False(first.IsCompleted || second.IsCompleted, "A worker ended on the restart.");

        // No finished call paid again: at most the one in flight (MaxConcurrency 1) was asked twice.
        Assert.InRange(chat.CallCount, CallsPerUser, CallsPerUser + 1);
        Assert.Equal(CallsPerUser, chat.Requests.Select(r => $"{r.Stage}/{r.ItemId}").Distinct().Count());
        Assert.Equal(1, (await new PostgresUserModelStore(dataSource).GetAsync("restarted"))!.Version);

        // The loss and the reconnection are logged as warnings with their reason, without a stack trace.
        FakeLogRecord[] faults = [.. _logs.GetSnapshot().Where(r => r.Id.Id is 4008 or 4009 or 4011)];
        Assert.NotEmpty(faults);
        Assert.All(faults, r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.All(faults, r => Assert.Null(r.Exception));
        Assert.Contains(faults, r => r.Message.Contains("57P01", StringComparison.Ordinal) || r.Message.Contains("ConnectionRefused", StringComparison.Ordinal) || r.Message.Contains("closed the connection", StringComparison.Ordinal));

        // It keeps serving: a job enqueued after the restart is built too.
        await queue.EnqueueAsync("after", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        await WaitUntilAsync(async () => (await queue.GetJobAsync("after"))?.Status == PostgresBuildJobStatus.Done, worker);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
    }

    [Fact]
    public async Task A_one_shot_drain_that_loses_the_server_throws_a_store_error_and_leaves_the_job_pending()
    {
        await using PrivatePostgresCluster cluster = PrivatePostgresCluster.Start();
        NpgsqlDataSource dataSource = DataSource(cluster.ConnectionString);
        PostgresBuildQueue queue = FastQueue(dataSource);
        await queue.EnqueueAsync("drained", TestPipelines.Rating, TestPipelines.MovieHistory(Items));

        var (chat, blocked, release) = BlockingChat(blockAtCall: 5);
        Task<int> drain = Task.Run(() => queue.ProcessPendingAsync(Pipeline(chat, dataSource)));
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        cluster.Restart();
        release.TrySetResult();

        RpmStoreException lost = await Assert.ThrowsAsync<RpmStoreException>(() => drain.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("lost", lost.Message, StringComparison.Ordinal);
        Assert.Contains("pending", lost.Message, StringComparison.Ordinal);
        Assert.Equal(PostgresBuildJobStatus.Pending, (await queue.GetJobAsync("drained"))!.Status);

        // The next drain resumes from the checkpoints of the first.
        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(chat, dataSource)));
        Assert.InRange(chat.CallCount, CallsPerUser, CallsPerUser + 1);
        Assert.Equal(PostgresBuildJobStatus.Done, (await queue.GetJobAsync("drained"))!.Status);
    }

    [Fact]
    public async Task A_worker_waits_for_a_server_that_is_down_with_capped_jittered_backoff_on_its_time_provider()
    {
        var clock = new FakeTimeProvider();
        NpgsqlDataSource dataSource = DataSource($"Host=127.0.0.1;Port={PostgresServer.FreePort()};Username=postgres;Database=postgres;Timeout=5");
        var queue = new PostgresBuildQueue(
            dataSource,
            new PostgresBuildQueueOptions { ReconnectDelay = TimeSpan.FromSeconds(1), MaxReconnectDelay = TimeSpan.FromSeconds(8), TimeProvider = clock },
            _loggerFactory);

        using var stop = new CancellationTokenSource();
        Task worker = Task.Run(() => queue.RunWorkerAsync(Pipeline(new FakeChatClient(), dataSource), stop.Token));
        for (int attempt = 1; attempt <= 8; attempt++)
        {
            // Each attempt is refused at once and schedules the next on the fake clock: nothing happens until it moves.
            await WaitUntilAsync(() => Task.FromResult(Retries().Length >= attempt), worker);
            clock.Advance(TimeSpan.FromSeconds(9));
        }

        Assert.False(worker.IsCompleted);
        FakeLogRecord[] retries = Retries();
        Assert.All(retries, r => Assert.Null(r.Exception));
        Assert.All(retries, r => Assert.Contains("ConnectionRefused", r.Message, StringComparison.Ordinal));
        TimeSpan[] delays = [.. retries.Select(r => TimeSpan.Parse(r.StructuredState!.Single(p => p.Key == "Delay").Value!, System.Globalization.CultureInfo.InvariantCulture))];
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromSeconds(8)));
        Assert.True(delays.Distinct().Count() > 1, "The delays have no jitter.");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker);

        FakeLogRecord[] Retries() => [.. _logs.GetSnapshot().Where(r => r.Id.Id == 4009)];
    }

    [Fact]
    public async Task The_queue_refuses_a_transaction_mode_pgbouncer_at_start_up_and_names_it()
    {
        var database = new PostgresDatabaseFixture();
        await database.InitializeAsync();
        _databases.Add(database);
        NpgsqlDataSource pooled = DataSource(await PgBouncer.ConnectionStringAsync("transaction", database.ConnectionString));
        var queue = new PostgresBuildQueue(pooled, null, _loggerFactory);

        // The stores and enqueueing work through it; claiming does not.
        await queue.EnqueueAsync("pooled", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        var chat = new FakeChatClient();
        RpmStoreException drain = await Assert.ThrowsAsync<PostgresPoolerException>(() => queue.ProcessPendingAsync(Pipeline(chat, pooled)));
        Assert.Contains("PgBouncer", drain.Message, StringComparison.Ordinal);
        Assert.Contains("transaction", drain.Message, StringComparison.Ordinal);
        Assert.Contains("session", drain.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PostgresPoolerException>(() => queue.TryClaimNextAsync());

        // A worker is refused too, at once, not retried forever.
        RpmStoreException worker = await Assert.ThrowsAsync<PostgresPoolerException>(() => new PostgresBuildQueue(pooled).RunWorkerAsync(Pipeline(chat, pooled), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("PgBouncer", worker.Message, StringComparison.Ordinal);
        Assert.Equal(0, chat.CallCount);
        Assert.Equal(PostgresBuildJobStatus.Pending, (await queue.GetJobAsync("pooled"))!.Status);
    }

    [Fact]
    public async Task The_queue_builds_through_a_session_mode_pgbouncer()
    {
        var database = new PostgresDatabaseFixture();
        await database.InitializeAsync();
        _databases.Add(database);
        NpgsqlDataSource pooled = DataSource(await PgBouncer.ConnectionStringAsync("session", database.ConnectionString));
        var queue = new PostgresBuildQueue(pooled);
        await queue.EnqueueAsync("session", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        var chat = new FakeChatClient();
        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(chat, pooled)));
        Assert.Equal((2 * 2) + 1, chat.CallCount);
        Assert.Equal(PostgresBuildJobStatus.Done, (await queue.GetJobAsync("session"))!.Status);
    }

    private static (FakeChatClient Chat, TaskCompletionSource Blocked, TaskCompletionSource Release) BlockingChat(int blockAtCall, Action? onLaterCall = null)
    {
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        var chat = new FakeChatClient
        {
            Gate = async (_, ct) =>
            {
                int call = Interlocked.Increment(ref calls);
                if (call == blockAtCall)
                {
                    blocked.TrySetResult();
                    await release.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
                }
                else if (call > blockAtCall)
                {
                    onLaterCall?.Invoke();
                }
            },
        };
        return (chat, blocked, release);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Task worker)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (worker.IsCompleted)
            {
                await worker;
                Assert.Fail("The worker ended.");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (RpmStoreException) when (!timeout.IsCancellationRequested)
            {
                // The server is restarting.
            }
            catch (NpgsqlException) when (!timeout.IsCancellationRequested)
            {
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    private PostgresBuildQueue FastQueue(NpgsqlDataSource dataSource) => new(
        dataSource,
        new PostgresBuildQueueOptions
        {
            WorkerName = "survivor",
            PollInterval = TimeSpan.FromMilliseconds(500),
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            ClaimCheckInterval = TimeSpan.FromMilliseconds(100),
        },
        _loggerFactory);

    private NpgsqlDataSource DataSource(string connectionString)
    {
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        _dataSources.Add(dataSource);
        return dataSource;
    }

    private RpmPipeline Pipeline(FakeChatClient chat, NpgsqlDataSource dataSource) =>
        TestPipelines.Create(chat, _embeddings, o => o.MaxConcurrency = 1, new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));
}
