using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.Hosting;

/// <summary>
/// <c>UsePostgresStore(...).AddBackgroundBuilds()</c> on several hosts over one database: jobs enqueued on any host are
/// built once by whichever host claims them, readable from every host, and an erasure on one host stops a build on another.
/// </summary>
/// <remarks>Each test has a database of its own (xunit makes an instance per test).</remarks>
public sealed class PostgresBackgroundBuildTests : IAsyncLifetime
{
    private const int CallsPerUser = (2 * 3) + 1;
    private readonly PostgresDatabaseFixture _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task Jobs_enqueued_on_either_host_are_built_once_across_both_and_readable_from_each()
    {
        // Builds wait until every request is in, so that the second request of a user finds its job pending and joins it.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chatA = new FakeChatClient { Gate = (_, ct) => release.Task.WaitAsync(ct) };
        var chatB = new FakeChatClient { Gate = (_, ct) => release.Task.WaitAsync(ct) };
        await using ServiceProvider a = Host(chatA);
        await using ServiceProvider b = Host(chatB);
        await using var hostA = await HostedServices.StartAsync(a);
        await using var hostB = await HostedServices.StartAsync(b);
        RpmBuildQueue queueA = a.GetRequiredService<RpmBuildQueue>();
        RpmBuildQueue queueB = b.GetRequiredService<RpmBuildQueue>();

        var jobs = new List<RpmBuildJob>();
        for (int i = 0; i < 6; i++)
        {
            RpmBuildJob job = await queueA.EnqueueAsync($"user-{i}", TestPipelines.Rating, TestPipelines.MovieHistory(3));
            jobs.Add(job);

            // The same request on the other host joins the job instead of paying for a second build.
            RpmBuildJob again = await queueB.EnqueueAsync($"user-{i}", TestPipelines.Rating, TestPipelines.MovieHistory(3));
            Assert.Equal(job.Id, again.Id);
        }

        release.SetResult();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        foreach (RpmBuildJob job in jobs)
        {
            RpmBuildJob done = await queueB.WaitAsync(job.Id, timeout.Token);
            Assert.Equal(RpmBuildJobState.Succeeded, done.State);
            Assert.Equal(1, done.ModelVersion);
            Assert.Equal(3, done.HistoryCount);
            Assert.Equal(done.State, (await queueA.GetJobAsync(job.Id))!.State);
        }

        Assert.Equal(6 * CallsPerUser, chatA.CallCount + chatB.CallCount);
        Assert.Equal(0, await Count("SELECT count(*) FROM rpm_build_jobs WHERE history_json <> '[]'"));   // a finished job keeps no history, only its count
        Assert.Equal(6, (await a.GetRequiredService<RpmPipeline>().ListUsersAsync()).Count);
        Assert.Null(await queueA.GetJobAsync("not-a-job-id"));

        // One job per user: a replaced job, or a generation never enqueued, is gone rather than reporting the current one.
        RpmBuildJob replaced = await queueA.EnqueueAsync("user-0", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        Assert.NotEqual(jobs[0].Id, replaced.Id);
        Assert.Null(await queueB.GetJobAsync(jobs[0].Id));
        Assert.Null(await queueB.GetJobAsync("7" + jobs[0].Id[jobs[0].Id.IndexOf('.', StringComparison.Ordinal)..]));
        Assert.NotNull(await queueB.GetJobAsync(replaced.Id));
    }

    [Fact]
    public async Task Erasing_a_user_on_one_host_stops_its_build_on_another_and_nothing_of_it_is_saved_afterwards()
    {
        // Host W builds (its hosted service runs); host F is a front end that only enqueues and erases.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = new FakeChatClient
        {
            Gate = (r, ct) =>
            {
                if (r.Stage != RpmStage.ReasoningPath)
                {
                    return Task.CompletedTask;
                }

                held.TrySetResult();
                return Task.Delay(Timeout.Infinite, ct);  // a slow model: only cancellation ends the call
            },
        };
        await using ServiceProvider w = Host(worker);
        await using ServiceProvider f = Host(new FakeChatClient());
        await using var workerHost = await HostedServices.StartAsync(w);
        RpmBuildQueue front = f.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob job = await front.EnqueueAsync("gone", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        await held.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(RpmBuildJobState.Running, (await front.GetJobAsync(job.Id))!.State);
        Assert.True(await Count("SELECT count(*) FROM rpm_build_checkpoints WHERE user_id = 'gone'") > 0);

        Assert.True(await front.EraseUserAsync(f.GetRequiredService<RpmPipeline>(), "gone"));  // no model was saved yet, but its job was erased

        Assert.Null(await front.GetJobAsync(job.Id));
        Assert.Equal(0, await Count("SELECT count(*) FROM rpm_build_checkpoints WHERE user_id = 'gone'"));
        Assert.Equal(0, await Count("SELECT count(*) FROM rpm_user_models WHERE user_id = 'gone'"));

        // The worker's build stopped (it was waiting on a call that only cancellation ends) and no host holds the user.
        Assert.Equal(0, await Count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'52504D31'::int::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
        int calls = worker.CallCount;
        RpmBuildJob next = await front.EnqueueAsync("kept", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        Assert.Equal(RpmBuildJobState.Running, await Eventually(front, next.Id, RpmBuildJobState.Running));

        // The worker goes on with the next user (its calls start after its claim shows Running), and "gone" stays gone.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (worker.CallCount == calls)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.Equal(0, await Count("SELECT count(*) FROM rpm_user_models WHERE user_id = 'gone'"));
    }

    [Fact]
    public async Task A_history_that_adds_items_to_the_saved_models_is_an_update_that_pays_for_the_new_items_only()
    {
        var chat = new FakeChatClient();
        await using ServiceProvider provider = Host(chat);
        await using var host = await HostedServices.StartAsync(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        RpmBuildJob first = await queue.WaitAsync((await queue.EnqueueAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(3))).Id, timeout.Token);
        Assert.Equal(CallsPerUser, chat.CallCount);
        RpmBuildJob longer = await queue.WaitAsync((await queue.EnqueueAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(5))).Id, timeout.Token);

        Assert.Equal(RpmBuildJobState.Succeeded, longer.State);
        Assert.Equal(first.ModelVersion + 1, longer.ModelVersion);
        Assert.Equal(CallsPerUser + (2 * 2), chat.CallCount);
        Assert.Equal(5, (await provider.GetRequiredService<RpmPipeline>().GetUserModelAsync("u"))!.Paths.Count);
    }

    [Fact]
    public async Task A_failing_build_shows_its_reason_while_it_waits_for_a_retry_and_when_it_gives_up()
    {
        var chat = new FakeChatClient { Gate = (_, _) => throw new HttpRequestException("connection refused (the model endpoint is down)") };
        await using ServiceProvider provider = Host(chat, q =>
        {
            q.MaxAttempts = 2;
            q.RetryDelay = TimeSpan.FromMilliseconds(200);
            q.PollInterval = TimeSpan.FromMilliseconds(200);
        });
        await using var host = await HostedServices.StartAsync(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob job = await queue.EnqueueAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        RpmBuildJob failed = await queue.WaitAsync(job.Id, timeout.Token);

        Assert.Equal(RpmBuildJobState.Failed, failed.State);
        Assert.Equal(2, failed.Attempts);
        Assert.Contains("RpmStageException", failed.Error, StringComparison.Ordinal);
        Assert.NotNull(failed.FinishedAt);
    }

    [Fact]
    public async Task Through_a_transaction_mode_pgbouncer_the_app_stays_up_enqueues_and_its_workers_refuse_naming_the_pooler()
    {
        var logs = new FakeLogCollector();
        var chat = new FakeChatClient();
        string pooled = await PgBouncer.ConnectionStringAsync("transaction", _database.ConnectionString);
        await using ServiceProvider provider = Host(chat, connectionString: pooled, logging: b => b.AddProvider(new FakeLoggerProvider(logs)));
        await using var host = await HostedServices.StartAsync(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob job = await queue.EnqueueAsync("pooled", TestPipelines.Rating, TestPipelines.MovieHistory(2));   // the stores work through it

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        FakeLogRecord refused;
        while ((refused = logs.GetSnapshot().FirstOrDefault(r => r.Id.Id == 7 && r.Category == typeof(RpmBuildService).FullName)!) is null)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.IsType<PostgresPoolerException>(refused.Exception);
        Assert.Contains("PgBouncer", refused.Exception!.Message, StringComparison.Ordinal);
        Assert.Equal(0, chat.CallCount);
        Assert.Equal(RpmBuildJobState.Pending, (await queue.GetJobAsync(job.Id))!.State);
    }

    private ServiceProvider Host(FakeChatClient chat, Action<PostgresBuildQueueOptions>? queue = null, string? connectionString = null, Action<ILoggingBuilder>? logging = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => logging?.Invoke(b));
        services.AddChatClient(chat);
        services.AddEmbeddingGenerator<string, Embedding<float>>(new HashingEmbeddingGenerator());
        services.AddRpm().UsePostgresStore(connectionString ?? _database.ConnectionString, configureQueue: o =>
        {
            o.ClaimCheckInterval = TimeSpan.FromMilliseconds(200);
            o.PollInterval = TimeSpan.FromMilliseconds(500);
            queue?.Invoke(o);
        }).AddBackgroundBuilds(o => o.MaxConcurrentBuilds = 2);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private async Task<long> Count(string sql)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<RpmBuildJobState> Eventually(RpmBuildQueue queue, string jobId, RpmBuildJobState state)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            RpmBuildJob job = (await queue.GetJobAsync(jobId, timeout.Token))!;
            if (job.State == state || job.State is RpmBuildJobState.Succeeded or RpmBuildJobState.Failed)
            {
                return job.State == RpmBuildJobState.Succeeded ? state : job.State;
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
