using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;
using Xunit.Abstractions;

namespace Rpm.Storage.Tests.PostgreSql.Quartz;

/// <summary>
/// The same fault scenarios against our queue ("own": <see cref="PostgresBuildQueue"/>) and against Quartz.NET's
/// clustered ADO.NET job store ("quartz": <see cref="QuartzBuildQueue"/>), on the same PostgreSQL, counting the model
/// calls answered (paid). Each test prints one "RESULT" line (engine, scenario, counts, recovery time) that
/// QUARTZ-COMPARISON.md tabulates; where the engines differ, each engine's assertion states what it really does.
/// Hosts are schedulers / workers in this process with their own connection pools, model clients and names.
/// </summary>
public sealed class QueueEngineComparisonTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Items = 6;
    private const int CallsPerUser = (2 * Items) + 1;
    private readonly List<Func<Task>> _cleanup = [];
    private readonly HashingEmbeddingGenerator _embeddings = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--)
        {
            try
            {
                await _cleanup[i]().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception)
            {
                // Best effort: a host cut off from the server may not stop cleanly.
            }
        }
    }

    // 1. Several hosts build every user exactly once.
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task Several_hosts_build_every_user_exactly_once(string engine)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs);
        var ledger = new Ledger();
        string[] users = [.. Enumerable.Range(0, 9).Select(i => $"u{i}")];
        foreach (string user in users)
        {
            await e.EnqueueAsync(user, 3);
        }

        var clock = Stopwatch.StartNew();
        for (int h = 0; h < 3; h++)
        {
            await e.StartHostAsync(cs, $"host-{h}", Chat(ledger));
        }

        foreach (string user in users)
        {
            await WaitDoneAsync(e, user);
        }

        var hosts = new HashSet<string>();
        foreach (string user in users)
        {
            Job job = (await e.GetJobAsync(user))!;
            Assert.Equal(1, job.ModelVersion);
            hosts.Add(job.Worker!);
        }

        Report(engine, "1 several hosts", ledger.Paid, users.Length * 7, ledger.Paid - (users.Length * 7), clock.Elapsed, $"{users.Length} users built by {hosts.Count} of 3 hosts");
        Assert.Equal(users.Length * 7, ledger.Paid);
    }

    // 1b. The same with worker processes (three hosts as far as the server can tell).
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task Several_worker_processes_build_every_user_exactly_once(string engine)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs);
        string[] users = [.. Enumerable.Range(0, 9).Select(i => $"u{i}")];
        foreach (string user in users)
        {
            await e.EnqueueAsync(user, 3);
        }

        var children = Enumerable.Range(0, 3).Select(i => Child(engine, cs, $"process-{i}", -1)).ToList();
        foreach (ChildProcess child in children)
        {
            await child.WaitForLineAsync("READY");
        }

        var clock = Stopwatch.StartNew();
        children.ForEach(c => c.SendLine("go"));
        if (engine == "quartz")
        {
            // A Quartz host serves until stopped: stop each once every user is done.
            foreach (string user in users)
            {
                await WaitDoneAsync(e, user);
            }

            children.ForEach(c => c.SendLine("stop"));
        }

        int paid = 0;
        foreach (ChildProcess child in children)
        {
            paid += int.Parse((await child.WaitForLineAsync("DONE")).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(0, await child.WaitForExitAsync());
        }

        TimeSpan elapsed = clock.Elapsed;
        var hosts = new HashSet<string>();
        foreach (string user in users)
        {
            Job job = (await e.GetJobAsync(user))!;
            Assert.Equal("done", job.Status);
            Assert.Equal(1, job.ModelVersion);
            hosts.Add(job.Worker!);
        }

        Report(engine, "1b several worker processes", paid, users.Length * 7, paid - (users.Length * 7), elapsed, $"{users.Length} users built by {hosts.Count} of 3 processes");
        Assert.Equal(users.Length * 7, paid);
    }

    // 2b. A worker process killed mid-build (SIGKILL): a host in this process finishes the user from the checkpoints.
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task A_killed_worker_process_is_finished_by_another_host_from_the_checkpoints(string engine)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs);
        await e.EnqueueAsync("killed", Items);
        ChildProcess child = Child(engine, cs, "doomed", 4);
        await child.WaitForLineAsync("READY");
        child.SendLine("go");
        Assert.StartsWith("BLOCKED 4", await child.WaitForLineAsync("BLOCKED"), StringComparison.Ordinal);
        var ledger = new Ledger();
        await e.StartHostAsync(cs, "survivor", Chat(ledger));

        var clock = Stopwatch.StartNew();
        await child.KillAsync();
        await WaitDoneAsync(e, "killed");
        TimeSpan recovery = clock.Elapsed;

        Assert.Equal("survivor", (await e.GetJobAsync("killed"))!.Worker);
        Report(engine, "2b worker process killed", 4 + ledger.Paid, CallsPerUser, 4 + ledger.Paid - CallsPerUser, recovery, "the killed process paid 4, its call 5 in flight never answered");

        // The 4 calls the dead process paid are not paid again; the survivor pays the other 9 once.
        Assert.Equal(CallsPerUser - 4, ledger.Paid);
        Assert.Equal(0, ledger.PaidTwice);
    }

    // 2. A host that dies mid-build: another host finishes the user, resumed from the checkpoints.
    // Quartz with the 1 s cluster check-in of the other scenarios, and with its default (7.5 s).
    [Theory]
    [InlineData("own", 1.0)]
    [InlineData("quartz", 1.0)]
    [InlineData("quartz", 7.5)]
    public async Task A_host_that_dies_mid_build_is_finished_by_another_from_the_checkpoints(string engine, double checkinSeconds)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs, TimeSpan.FromSeconds(checkinSeconds));
        var ledger = new Ledger();
        await e.EnqueueAsync("dies", Items);
        TcpProxy proxy = Proxy(cs);
        var (chat, blocked, _) = BlockingChat(ledger, blockAt: 5);
        await e.StartHostAsync(TcpProxy.Through(proxy, cs), "doomed", chat);
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await e.StartHostAsync(cs, "survivor", Chat(ledger));

        // The doomed host is gone for good: its connections end, it never reaches the server again, its call never returns.
        var clock = Stopwatch.StartNew();
        proxy.Cut();
        await WaitDoneAsync(e, "dies");
        TimeSpan recovery = clock.Elapsed;

        Assert.Equal("survivor", (await e.GetJobAsync("dies"))!.Worker);
        Report(engine, engine == "own" ? "2 host dies" : $"2 host dies (check-in {checkinSeconds} s)", ledger.Paid, CallsPerUser, ledger.PaidTwice, recovery, "the dead host's call 5 in flight, never answered");

        // Both: the 4 answered calls are not paid again; the survivor pays the other 9 (call 5 included) once.
        Assert.Equal(CallsPerUser, ledger.Paid);
        Assert.Equal(0, ledger.PaidTwice);
    }

    // 3. A PostgreSQL restart mid-build: no worker ends, the job completes, no finished call paid again beyond the one in flight.
    // Quartz twice: with its default cluster check-in (7.5 s) and with the 1 s the other scenarios use.
    [Theory]
    [InlineData("own", 7.5)]
    [InlineData("quartz", 7.5)]
    [InlineData("quartz", 1.0)]
    public async Task A_server_restart_mid_build_ends_no_worker_and_the_job_completes(string engine, double checkinSeconds)
    {
        PrivatePostgresCluster cluster = PrivatePostgresCluster.Start();
        _cleanup.Add(() => cluster.DisposeAsync().AsTask());
        string cs = cluster.ConnectionString;
        Engine e = await EngineAsync(engine, cs, checkin: TimeSpan.FromSeconds(checkinSeconds));
        var ledger = new Ledger();
        await e.EnqueueAsync("restarted", Items);
        var (chat, blocked, release) = BlockingChat(ledger, blockAt: 5);
        Host first = await e.StartHostAsync(cs, "host-a", chat);
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Host second = await e.StartHostAsync(cs, "host-b", Chat(ledger));

        var clock = Stopwatch.StartNew();
        cluster.Restart();
        release.TrySetResult();
        await WaitDoneAsync(e, "restarted");
        TimeSpan recovery = clock.Elapsed;

        Assert.True(first.Running && second.Running, "A worker ended on the restart.");
        int paid = ledger.Paid, paidTwice = ledger.PaidTwice;
        Job job = (await e.GetJobAsync("restarted"))!;
        long? saved = (await new PostgresUserModelStore(DataSource(cs)).GetAsync("restarted"))?.Version;
        Report(engine, engine == "own" ? "3 server restart" : $"3 server restart (check-in {checkinSeconds} s)", paid, CallsPerUser, paidTwice, recovery, $"call 5 in flight across the restart; built by {job.Worker}, stored version {saved}");
        Assert.InRange(paid, CallsPerUser, CallsPerUser + 1);
        Assert.InRange(paidTwice, 0, 1);

        // It keeps serving: a user enqueued after the restart is built too.
        await e.EnqueueAsync("after", 2);
        await WaitDoneAsync(e, "after");
        Assert.True(first.Running && second.Running, "A worker ended after the restart.");
    }

    // 4. Through a transaction-mode PgBouncer: works, or refused at start-up with an error that names the pooler.
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task Through_a_transaction_mode_pgbouncer_it_works_or_is_refused_naming_the_pooler(string engine)
    {
        string direct = await DatabaseAsync();
        string pooled = await PgBouncer.ConnectionStringAsync("transaction", direct);
        Engine e = await EngineAsync(engine, direct);
        var ledger = new Ledger();
        string[] users = ["p0", "p1", "p2", "p3"];
        foreach (string user in users)
        {
            await e.EnqueueAsync(user, 3);
        }

        var clock = Stopwatch.StartNew();
        Host a = await e.StartHostAsync(pooled, "pooled-a", Chat(ledger));
        Host b = await e.StartHostAsync(pooled, "pooled-b", Chat(ledger));
        if (engine == "own")
        {
            // Ours refuses at start-up, naming the pooler and what to do, and pays nothing.
            Exception refused = await Assert.ThrowsAsync<PostgresPoolerException>(() => a.Completion.WaitAsync(TimeSpan.FromSeconds(60)));
            await Assert.ThrowsAsync<PostgresPoolerException>(() => b.Completion.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("PgBouncer", refused.Message, StringComparison.Ordinal);
            Assert.Contains("pool_mode = session", refused.Message, StringComparison.Ordinal);
            Report(engine, "4 transaction pooler", ledger.Paid, 0, 0, clock.Elapsed, "refused at start-up: PostgresPoolerException naming PgBouncer pool_mode = transaction");
            Assert.Equal(0, ledger.Paid);
            return;
        }

        // Quartz's locks are row locks inside a transaction, which transaction pooling keeps: it works.
        foreach (string user in users)
        {
            await WaitDoneAsync(e, user);
            Assert.Equal(1, (await e.GetJobAsync(user))!.ModelVersion);
        }

        Report(engine, "4 transaction pooler", ledger.Paid, users.Length * 7, ledger.Paid - (users.Length * 7), clock.Elapsed, "works through it");
        Assert.Equal(users.Length * 7, ledger.Paid);
        Assert.True(a.Running && b.Running);
    }

    // 5. A build that fails records the reason where a caller can read it.
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task A_failed_build_records_its_reason(string engine)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs);
        var ledger = new Ledger();
        await e.EnqueueAsync("fails", 2);
        var down = new FakeChatClient { Fail = _ => new HttpRequestException("503 Service Unavailable") };
        var clock = Stopwatch.StartNew();
        await e.StartHostAsync(cs, "host", down);
        Job job = (await WaitAsync(e, "fails", j => j.Status != "pending"))!;
        Report(engine, "5 failed build", down.CallCount, 0, 0, clock.Elapsed, $"status {job.Status}, reason '{job.Error}'");
        Assert.Equal("failed", job.Status);
        Assert.Contains("503", job.Error, StringComparison.Ordinal);
    }

    // 6. A host that vanishes from the network (its connections end and it cannot reconnect for a while) costs at most its in-flight calls.
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task A_host_that_vanishes_from_the_network_costs_at_most_its_calls_in_flight(string engine)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs);
        var ledger = new Ledger();
        await e.EnqueueAsync("vanishes", Items);
        TcpProxy proxy = Proxy(cs);
        var (chat, blocked, release) = BlockingChat(ledger, blockAt: 5);
        Host vanishing = await e.StartHostAsync(TcpProxy.Through(proxy, cs), "vanishing", chat);
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await e.StartHostAsync(cs, "other", Chat(ledger));

        // The host drops off the network; the other host finishes the user meanwhile. Then the network comes back and
        // the vanished host's model call (in flight all along) returns.
        var clock = Stopwatch.StartNew();
        proxy.Cut();
        await PostgresSql.ExecuteAsync(cs, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vanishing';");
        await WaitDoneAsync(e, "vanishes");
        TimeSpan recovery = clock.Elapsed;
        proxy.Restore();
        release.TrySetResult();
        await ledger.QuietAsync(TimeSpan.FromSeconds(5));
        Job job = (await e.GetJobAsync("vanishes"))!;
        long? saved = (await new PostgresUserModelStore(DataSource(cs)).GetAsync("vanishes"))?.Version;
        Report(engine, "6 host vanishes", ledger.Paid, CallsPerUser, ledger.PaidTwice, recovery, $"in flight: 1; job afterwards: {job.Status} by {job.Worker} ({job.Error ?? "no error"}), model version {job.ModelVersion}, stored version {saved}; vanished host running: {vanishing.Running}");
        Assert.Equal("done", job.Status);
        if (engine == "own")
        {
            // The lost claim stopped the vanished host's build: its call in flight was not answered; nothing paid twice.
            Assert.Equal(CallsPerUser, ledger.Paid);
            Assert.Equal(0, ledger.PaidTwice);
            Assert.Equal(1, saved);
        }
        else
        {
            // Quartz finding: the vanished node is never told its job was recovered by another node; its build goes on
            // when the network is back and pays again for the calls the other node already paid (beyond the one in flight).
            // At the least the 9 calls from call 5 on, which the other node paid too.
            Assert.True(ledger.PaidTwice >= CallsPerUser - 4, $"Quartz paid {ledger.PaidTwice} call(s) twice.");
        }
    }

    private async Task<string> DatabaseAsync()
    {
        var database = new PostgresDatabaseFixture();
        await database.InitializeAsync();
        _cleanup.Add(database.DisposeAsync);
        return database.ConnectionString;
    }

    // 6b. A silent partition: the host's packets stop both ways but no connection is closed (TCP outlives it, as when
    // a switch drops traffic for a while), so the server cannot tell the host is gone.
    [Theory]
    [InlineData("own")]
    [InlineData("quartz")]
    public async Task A_silent_partition_that_closes_no_connection(string engine)
    {
        string cs = await DatabaseAsync();
        Engine e = await EngineAsync(engine, cs);
        var ledger = new Ledger();
        await e.EnqueueAsync("partitioned", Items);
        TcpProxy proxy = Proxy(cs);
        var (chat, blocked, release) = BlockingChat(ledger, blockAt: 5);
        await e.StartHostAsync(TcpProxy.Through(proxy, cs), "silent", chat);
        await blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await e.StartHostAsync(cs, "other", Chat(ledger));

        // 15 s of partition: does the other host take the user over meanwhile? Then the network heals and the silent
        // host's model call (in flight all along) returns.
        var clock = Stopwatch.StartNew();
        proxy.Freeze();
        Job? during = await WaitAsync(e, "partitioned", j => j.Status == "done", TimeSpan.FromSeconds(15));
        TimeSpan? recovery = during is null ? null : clock.Elapsed;
        proxy.Thaw();
        release.TrySetResult();
        Job job = (await WaitAsync(e, "partitioned", j => j.Status == "done"))!;
        TimeSpan done = clock.Elapsed;
        await ledger.QuietAsync(TimeSpan.FromSeconds(5));
        job = (await e.GetJobAsync("partitioned"))!;
        long? saved = (await new PostgresUserModelStore(DataSource(cs)).GetAsync("partitioned"))?.Version;
        Report(engine, "6b silent partition (15 s)", ledger.Paid, CallsPerUser, ledger.PaidTwice, done, $"taken over during the partition: {(recovery is null ? "no" : $"yes, after {recovery.Value.TotalSeconds:F1} s")}; done {done.TotalSeconds:F1} s after the partition began; job afterwards: {job.Status} by {job.Worker} ({job.Error ?? "no error"}), stored version {saved}");
        if (engine == "own")
        {
            // Ours: the silent host's session, and with it its claim, lives through the partition: nobody else builds
            // the user until the network heals (so the build waits), then the host finishes it itself; nothing paid twice.
            Assert.Null(during);
            Assert.Equal("silent", job.Worker);
            Assert.Equal(CallsPerUser, ledger.Paid);
            Assert.Equal(0, ledger.PaidTwice);
        }
        else
        {
            // Quartz: the other node recovers the job once the silent node misses its check-ins and builds it; the
            // silent node's build goes on after the partition, paying again what the other node paid.
            Assert.NotNull(during);
            Assert.True(ledger.PaidTwice >= CallsPerUser - 4, $"Quartz paid {ledger.PaidTwice} call(s) twice.");
        }
    }

    private ChildProcess Child(string engine, string cs, string name, int blockAfter)
    {
        ChildProcess child = ChildProcess.Start(engine == "own" ? "pg-worker" : "quartz-worker", cs, name, blockAfter.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _cleanup.Add(() =>
        {
            child.Dispose();
            return Task.CompletedTask;
        });
        return child;
    }

    private TcpProxy Proxy(string cs)
    {
        var target = new NpgsqlConnectionStringBuilder(cs);
        var proxy = new TcpProxy(target.Host!, target.Port);
        _cleanup.Add(() => proxy.DisposeAsync().AsTask());
        return proxy;
    }

    private NpgsqlDataSource DataSource(string cs)
    {
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(cs);
        _cleanup.Add(() => dataSource.DisposeAsync().AsTask());
        return dataSource;
    }

    private RpmPipeline Pipeline(FakeChatClient chat, NpgsqlDataSource dataSource) =>
        TestPipelines.Create(chat, _embeddings, o => o.MaxConcurrency = 1, new PostgresUserModelStore(dataSource), new PostgresBuildCheckpointStore(dataSource));

    private async Task<Engine> EngineAsync(string engine, string cs, TimeSpan? checkin = null)
    {
        await PostgresRpmSchema.MigrateAsync(DataSource(cs));
        Engine e = engine == "own" ? new OwnEngine(this, cs) : await QuartzEngine.CreateAsync(this, cs, checkin ?? TimeSpan.FromSeconds(1));
        return e;
    }

    private static FakeChatClient Chat(Ledger ledger) => new() { Gate = (r, _) => { ledger.Answered($"{r.Stage}/{r.ItemId}"); return Task.CompletedTask; } };

    /// <summary>A model whose call <paramref name="blockAt"/> blocks until released (or cancelled), the calls before it answered.</summary>
    private static (FakeChatClient Chat, TaskCompletionSource Blocked, TaskCompletionSource Release) BlockingChat(Ledger ledger, int blockAt)
    {
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        var chat = new FakeChatClient
        {
            Gate = async (r, ct) =>
            {
                if (Interlocked.Increment(ref calls) == blockAt)
                {
                    blocked.TrySetResult();
                    await release.Task.WaitAsync(ct);
                }

                ledger.Answered($"{r.Stage}/{r.ItemId}");
            },
        };
        return (chat, blocked, release);
    }

    private static Task WaitDoneAsync(Engine e, string user) => WaitAsync(e, user, j => j.Status == "done");

    /// <summary>Waits for the job to meet <paramref name="condition"/>; with <paramref name="within"/>, null when it does not in that time.</summary>
    private static async Task<Job?> WaitAsync(Engine e, string user, Func<Job, bool> condition, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            if (within is not null && timeout.IsCancellationRequested)
            {
                return null;
            }

            try
            {
                if (await e.GetJobAsync(user) is { } job && condition(job))
                {
                    return job;
                }
            }
            catch (Exception ex) when (!timeout.IsCancellationRequested && ex is NpgsqlException or RpmStoreException or global::Quartz.JobPersistenceException)
            {
                // The server is restarting.
            }

            await Task.Delay(100, CancellationToken.None);
            if (within is null)
            {
                timeout.Token.ThrowIfCancellationRequested();
            }
        }
    }

    private void Report(string engine, string scenario, int paid, int expected, int paidTwice, TimeSpan recovery, string notes)
    {
        string line = $"RESULT\t{engine}\t{scenario}\tpaid {paid} (one build each: {expected})\tpaid twice {paidTwice}\trecovery {recovery.TotalSeconds:F1} s\t{notes}";
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "rpm-queue-engine-comparison.tsv"), line + Environment.NewLine);
    }

    private sealed record Job(string Status, string? Error, long? ModelVersion, string? Worker);

    /// <summary>A running host: for ours a worker task, for Quartz a started scheduler.</summary>
    private sealed class Host(Task completion, Func<bool> running)
    {
        public Task Completion { get; } = completion;

        public bool Running => running();
    }

    private abstract class Engine
    {
        public abstract Task EnqueueAsync(string user, int items);

        public abstract Task<Host> StartHostAsync(string cs, string name, FakeChatClient chat);

        public abstract Task<Job?> GetJobAsync(string user);
    }

    private sealed class OwnEngine(QueueEngineComparisonTests t, string cs) : Engine
    {
        private readonly PostgresBuildQueue _producer = new(t.DataSource(cs));

        public override async Task EnqueueAsync(string user, int items) => await _producer.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(items));

        public override Task<Host> StartHostAsync(string hostCs, string name, FakeChatClient chat)
        {
            NpgsqlDataSource dataSource = t.DataSource(new NpgsqlConnectionStringBuilder(hostCs) { ApplicationName = name }.ConnectionString);
            var queue = new PostgresBuildQueue(dataSource, new PostgresBuildQueueOptions
            {
                WorkerName = name,
                PollInterval = TimeSpan.FromMilliseconds(500),
                ReconnectDelay = TimeSpan.FromMilliseconds(100),
                MaxReconnectDelay = TimeSpan.FromSeconds(1),
                ClaimCheckInterval = TimeSpan.FromMilliseconds(100),
                MaxAttempts = 1,
                RetryDelay = TimeSpan.Zero,
            });
            var stop = new CancellationTokenSource();
            Task run = Task.Run(() => queue.RunWorkerAsync(t.Pipeline(chat, dataSource), stop.Token));
            t._cleanup.Add(async () =>
            {
                await stop.CancelAsync();
                await Task.WhenAny(run);
            });
            return Task.FromResult(new Host(run, () => !run.IsCompleted));
        }

        public override async Task<Job?> GetJobAsync(string user) =>
            await _producer.GetJobAsync(user) is { } job ? new Job(job.Status.ToString().ToLowerInvariant(), job.LastError, job.ModelVersion, job.Worker) : null;
    }

    private sealed class QuartzEngine(QueueEngineComparisonTests t, QuartzBuildQueue producer, TimeSpan checkin) : Engine
    {
        public static async Task<QuartzEngine> CreateAsync(QueueEngineComparisonTests t, string cs, TimeSpan checkin)
        {
            await QuartzBuildQueue.EnsureSchemaAsync(cs);
            QuartzBuildQueue producer = await QuartzBuildQueue.StartAsync(cs, "producer-" + Guid.NewGuid().ToString("N")[..8], null, checkin);
            t._cleanup.Add(() => producer.DisposeAsync().AsTask());
            return new QuartzEngine(t, producer, checkin);
        }

        public override Task EnqueueAsync(string user, int items) => producer.EnqueueAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(items));

        public override async Task<Host> StartHostAsync(string hostCs, string name, FakeChatClient chat)
        {
            string named = new NpgsqlConnectionStringBuilder(hostCs) { ApplicationName = name }.ConnectionString;
            QuartzBuildQueue host = await QuartzBuildQueue.StartAsync(named, name, t.Pipeline(chat, t.DataSource(named)), checkin);
            t._cleanup.Add(() => host.DisposeAsync().AsTask());
            return new Host(Task.Delay(Timeout.Infinite), () => host.Scheduler.Status == global::Quartz.SchedulerStatus.Running);
        }

        public override async Task<Job?> GetJobAsync(string user) =>
            await producer.GetJobAsync(user) is { } job ? new Job(job.Status, job.Error, job.ModelVersion, job.Worker) : null;
    }

    private sealed class Ledger
    {
        private readonly ConcurrentQueue<string> _answered = new();

        public int Paid => _answered.Count;

        public int PaidTwice => Paid - _answered.Distinct().Count();

        public void Answered(string key) => _answered.Enqueue(key);

        /// <summary>Waits until no call was answered for <paramref name="quiet"/> (at most a minute).</summary>
        public async Task QuietAsync(TimeSpan quiet)
        {
            var deadline = Stopwatch.StartNew();
            int seen = -1;
            while (seen != Paid && deadline.Elapsed < TimeSpan.FromMinutes(1))
            {
                seen = Paid;
                await Task.Delay(quiet);
            }
        }
    }
}
