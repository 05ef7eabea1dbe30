using System.Collections.Concurrent;
using Npgsql;
using Rpm.Storage.TestWorker;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.PostgreSql;

/// <summary>Several workers against one PostgreSQL database: each user built exactly once, dead workers' users resumed by others.</summary>
/// <remarks>Each test has a database of its own, so that no test's jobs are served by another test's workers.</remarks>
public sealed class BuildQueueTests : IAsyncLifetime
{
    private const int CallsPerUser = (2 * 3) + 1;
    private readonly PostgresDatabaseFixture _database = new();
    private readonly List<NpgsqlDataSource> _dataSources = [];
    private readonly HashingEmbeddingGenerator _embeddings = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (NpgsqlDataSource dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Several_concurrent_workers_build_every_user_exactly_once()
    {
        string prefix = NewPrefix();
        PostgresBuildQueue producer = Queue();
        string[] users = [.. Enumerable.Range(0, 12).Select(i => $"{prefix}-{i:D2}")];
        foreach (string user in users)
        {
            await producer.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3));
        }

        // Four workers, each with its own connection pool and model client. Each worker's first call waits until all
        // four are inside a build at once: four users claimed at the same time, by four different workers.
        const int workers = 4;
        var allInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int inside = 0;
        var chats = new List<FakeChatClient>();
        var runs = new List<Task<int>>();
        for (int w = 0; w < workers; w++)
        {
            int calls = 0;
            var chat = new FakeChatClient
            {
                Gate = async (r, ct) =>
                {
                    if (Interlocked.Increment(ref calls) == 1)
                    {
                        if (Interlocked.Increment(ref inside) == workers)
                        {
                            allInside.TrySetResult();
                        }

                        await allInside.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
                    }
                },
            };
            chats.Add(chat);
            PostgresBuildQueue queue = Queue(o => o.WorkerName = $"worker-{w}");
            RpmPipeline pipeline = Pipeline(chat);
            runs.Add(Task.Run(() => queue.ProcessPendingAsync(pipeline)));
        }

        int[] finished = await Task.WhenAll(runs);

        Assert.True(allInside.Task.IsCompletedSuccessfully);
        Assert.Equal(users.Length, finished.Sum());
        Assert.Equal(users.Length * CallsPerUser, chats.Sum(c => c.CallCount));
        var store = new PostgresUserModelStore(DataSource());
        var builtBy = new HashSet<string>();
        foreach (string user in users)
        {
            // Version 1: the model was saved exactly once.
            Assert.Equal(1, (await store.GetAsync(user))!.Version);
            PostgresBuildJob job = (await producer.GetJobAsync(user))!;
            Assert.Equal(PostgresBuildJobStatus.Done, job.Status);
            Assert.Equal(1, job.ModelVersion);
            builtBy.Add(job.Worker!);
        }

        Assert.Equal(workers, builtBy.Count);
    }

    [Fact]
    public async Task Several_worker_processes_build_every_user_exactly_once()
    {
        string prefix = NewPrefix();
        PostgresBuildQueue producer = Queue();
        string[] users = [.. Enumerable.Range(0, 9).Select(i => $"{prefix}-{i}")];
        foreach (string user in users)
        {
            await producer.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3));
        }

        var children = Enumerable.Range(0, 3).Select(i => ChildProcess.Start("pg-worker", _database.ConnectionString, $"process-{i}", "-1")).ToList();
        try
        {
            foreach (ChildProcess child in children)
            {
                await child.WaitForLineAsync("READY");
            }

            // All three start serving at once.
            children.ForEach(c => c.SendLine("go"));
            int calls = 0, jobs = 0;
            foreach (ChildProcess child in children)
            {
                string[] done = (await child.WaitForLineAsync("DONE")).Split(' ');
                calls += int.Parse(done[1], System.Globalization.CultureInfo.InvariantCulture);
                jobs += int.Parse(done[2], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(0, await child.WaitForExitAsync());
            }

            Assert.Equal(users.Length * CallsPerUser, calls);
            Assert.Equal(users.Length, jobs);
            var store = new PostgresUserModelStore(DataSource());
            foreach (string user in users)
            {
                Assert.Equal(1, (await store.GetAsync(user))!.Version);
                Assert.Equal(PostgresBuildJobStatus.Done, (await producer.GetJobAsync(user))!.Status);
            }
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_worker_process_that_dies_releases_its_user_and_another_worker_resumes_it()
    {
        string user = NewPrefix() + "-dies";
        PostgresBuildQueue queue = Queue();
        await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(6));

        using (ChildProcess child = ChildProcess.Start("pg-worker", _database.ConnectionString, "doomed", "9"))
        {
            await child.WaitForLineAsync("READY");
            child.SendLine("go");
            Assert.StartsWith("BLOCKED 9", await child.WaitForLineAsync("BLOCKED"), StringComparison.Ordinal);

            // While the child lives, it holds the user: nobody else can claim it.
            Assert.Null(await queue.TryClaimNextAsync());
            await child.KillAsync();
        }

        // The server ends the dead worker's session when it sees the socket close; wait for that, not for a fixed time.
        await WaitUntilAsync(async () => (long)(await PostgresSql.ScalarAsync(_database.ConnectionString, $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = {PostgresBuildQueue.LockClass};"))! == 0);
        Assert.Equal(PostgresBuildJobStatus.Pending, (await queue.GetJobAsync(user))!.Status);

        var chat = new FakeChatClient();
        Assert.Equal(1, await Queue(o => o.WorkerName = "survivor").ProcessPendingAsync(Pipeline(chat)));

        // The dead worker had 9 calls answered and checkpointed; the survivor pays for the other 4 only.
        Assert.Equal((2 * 6) + 1 - 9, chat.CallCount);
        Assert.All(chat.Requests, r => Assert.Equal(RpmStage.ReasoningPath, r.Stage));
        PostgresBuildJob job = (await queue.GetJobAsync(user))!;
        Assert.Equal(PostgresBuildJobStatus.Done, job.Status);
        Assert.Equal("survivor", job.Worker);
        Assert.Equal(1, (await new PostgresUserModelStore(DataSource()).GetAsync(user))!.Version);
    }

    [Fact]
    public async Task Failed_builds_are_retried_from_their_checkpoints_and_recorded_until_they_give_up()
    {
        string prefix = NewPrefix();
        PostgresBuildQueue queue = Queue(o => { o.RetryDelay = TimeSpan.Zero; o.MaxAttempts = 5; });
        await queue.EnqueueAsync(prefix + "-recovers", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        // The model fails the first two reasoning calls it gets (two build attempts), then answers.
        int reasoningFailures = 0;
        var succeeded = new ConcurrentQueue<string>();
        var chat = new FakeChatClient
        {
            Fail = r =>
            {
                if (r.Stage == RpmStage.ReasoningPath && Interlocked.Increment(ref reasoningFailures) <= 2)
                {
                    return new HttpRequestException("503 Service Unavailable");
                }

                succeeded.Enqueue($"{r.Stage}/{r.ItemId}");
                return null;
            },
        };
        Assert.Equal(3, await queue.ProcessPendingAsync(Pipeline(chat, o => o.MaxConcurrency = 1)));

        PostgresBuildJob recovered = (await queue.GetJobAsync(prefix + "-recovers"))!;
        Assert.Equal(PostgresBuildJobStatus.Done, recovered.Status);
        Assert.Equal(2, recovered.Attempts);
        Assert.Null(recovered.LastError);
        Assert.Equal(CallsPerUser, succeeded.Count);
        Assert.Equal(succeeded.Count, succeeded.Distinct().Count());

        // A model that never recovers: the job fails after MaxAttempts, with the error recorded.
        PostgresBuildQueue strict = Queue(o => { o.RetryDelay = TimeSpan.Zero; o.MaxAttempts = 2; });
        await strict.EnqueueAsync(prefix + "-gives-up", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        var down = new FakeChatClient { Fail = _ => new HttpRequestException("503 Service Unavailable") };
        Assert.Equal(2, await strict.ProcessPendingAsync(Pipeline(down)));
        PostgresBuildJob failed = (await strict.GetJobAsync(prefix + "-gives-up"))!;
        Assert.Equal(PostgresBuildJobStatus.Failed, failed.Status);
        Assert.Equal(2, failed.Attempts);
        Assert.Contains("503", failed.LastError, StringComparison.Ordinal);
        Assert.NotNull(failed.FinishedAt);
    }

    [Fact]
    public async Task Enqueuing_a_user_again_during_a_build_leaves_the_newer_job_pending()
    {
        string user = NewPrefix() + "-again";
        PostgresBuildQueue queue = Queue();
        Assert.Equal(1, await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(2)));

        await using (PostgresBuildClaim claim = (await queue.TryClaimNextAsync())!)
        {
            Assert.Equal(user, claim.UserId);
            Assert.Equal(2, claim.History.Count);
            Assert.Equal(2, await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(4)));
            Assert.False(await claim.CompleteAsync(modelVersion: 1));
        }

        PostgresBuildJob job = (await queue.GetJobAsync(user))!;
        Assert.Equal(PostgresBuildJobStatus.Pending, job.Status);
        Assert.Equal(2, job.Generation);
        Assert.Equal(4, job.HistoryCount);

        var chat = new FakeChatClient();
        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(chat)));
        Assert.Equal((2 * 4) + 1, chat.CallCount);
        Assert.Equal(4, (await new PostgresUserModelStore(DataSource()).GetAsync(user))!.Paths.Count);
    }

    [Fact]
    public async Task A_job_the_stored_model_already_covers_completes_without_model_calls()
    {
        // As when a worker dies after saving the model but before marking the job done.
        string user = NewPrefix() + "-covered";
        UserModel built = await Pipeline(new FakeChatClient()).BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3));
        PostgresBuildQueue queue = Queue();
        await queue.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3));

        var chat = new FakeChatClient();
        Assert.Equal(1, await queue.ProcessPendingAsync(Pipeline(chat)));

        Assert.Equal(0, chat.CallCount);
        PostgresBuildJob job = (await queue.GetJobAsync(user))!;
        Assert.Equal(PostgresBuildJobStatus.Done, job.Status);
        Assert.Equal(built.Version, job.ModelVersion);
    }

    [Fact]
    public async Task A_running_worker_wakes_on_a_new_job_without_polling()
    {
        string prefix = NewPrefix();
        var saved = new ConcurrentDictionary<string, TaskCompletionSource>();
        TaskCompletionSource SavedFor(string user) => saved.GetOrAdd(user, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var store = new ObservedStore(new PostgresUserModelStore(DataSource()), user => SavedFor(user).TrySetResult());
        var pipeline = TestPipelines.Create(new FakeChatClient(), _embeddings, store: store, checkpoints: new PostgresBuildCheckpointStore(DataSource()));
        PostgresBuildQueue queue = Queue(o => o.PollInterval = TimeSpan.FromHours(1));
        await queue.EnqueueAsync(prefix + "-a", TestPipelines.Rating, TestPipelines.MovieHistory(2));

        using var stop = new CancellationTokenSource();
        Task worker = Task.Run(() => queue.RunWorkerAsync(pipeline, stop.Token));

        // The worker listens before its first pass, so once it built the first user a new job's notification reaches it.
        await SavedFor(prefix + "-a").Task.WaitAsync(TimeSpan.FromSeconds(60));
        await Queue().EnqueueAsync(prefix + "-b", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        await SavedFor(prefix + "-b").Task.WaitAsync(TimeSpan.FromSeconds(60));

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker);
        Assert.Equal(PostgresBuildJobStatus.Done, (await queue.GetJobAsync(prefix + "-b"))!.Status);
    }

    [Fact]
    public async Task Enqueue_refuses_a_history_the_pipeline_would_refuse()
    {
        PostgresBuildQueue queue = Queue();
        string user = NewPrefix();
        await Assert.ThrowsAsync<ArgumentException>(() => queue.EnqueueAsync(user, TestPipelines.Rating, []));
        var duplicate = await Assert.ThrowsAsync<ArgumentException>(() => queue.EnqueueAsync(user, TestPipelines.Rating, [new HistoryItem("x", "a", "4.0"), new HistoryItem("x", "b", "3.0")]));
        Assert.Contains("'x'", duplicate.Message, StringComparison.Ordinal);
        var invalid = await Assert.ThrowsAsync<ArgumentException>(() => queue.EnqueueAsync(user, TestPipelines.Rating, [new HistoryItem("y", "a", "eleven")]));
        Assert.Contains("'y'", invalid.Message, StringComparison.Ordinal);
        Assert.Null(await queue.GetJobAsync(user));
        Assert.Throws<ArgumentException>(() => new PostgresBuildQueue(DataSource(), new PostgresBuildQueueOptions { MaxAttempts = 0 }));
    }

    private static string NewPrefix() => "q" + Guid.NewGuid().ToString("N")[..8];

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    private NpgsqlDataSource DataSource()
    {
        NpgsqlDataSource dataSource = _database.CreateDataSource();
        _dataSources.Add(dataSource);
        return dataSource;
    }

    private PostgresBuildQueue Queue(Action<PostgresBuildQueueOptions>? configure = null)
    {
        var options = new PostgresBuildQueueOptions();
        configure?.Invoke(options);
        return new PostgresBuildQueue(DataSource(), options);
    }

    private RpmPipeline Pipeline(FakeChatClient chat, Action<RpmOptions>? configure = null)
    {
        NpgsqlDataSource dataSource = DataSource();
        return TestPipelines.Create(chat, _embeddings, configure, new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));
    }

    /// <summary>Tells the test when a model was saved.</summary>
    private sealed class ObservedStore(IUserModelStore inner, Action<string> saved) : IUserModelStore
    {
        public Task<UserModel?> GetAsync(string userId, CancellationToken cancellationToken = default) => inner.GetAsync(userId, cancellationToken);

        public Task<string?> GetETagAsync(string userId, CancellationToken cancellationToken = default) => inner.GetETagAsync(userId, cancellationToken);

        public async Task<UserModel> SaveAsync(UserModel model, long? expectedVersion, CancellationToken cancellationToken = default)
        {
            UserModel result = await inner.SaveAsync(model, expectedVersion, cancellationToken);
            saved(model.UserId);
            return result;
        }

        public Task<bool> DeleteAsync(string userId, CancellationToken cancellationToken = default) => inner.DeleteAsync(userId, cancellationToken);

        public Task<IReadOnlyList<string>> ListUserIdsAsync(CancellationToken cancellationToken = default) => inner.ListUserIdsAsync(cancellationToken);
    }
}
