using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rpm.Storage.TestWorker;
using Rpm.Storage.Tests.Infrastructure;
using Rpm.Storage.Tests.Sqlite;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.Hosting;

public sealed class BackgroundBuildTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_requests_for_one_user_join_one_job_that_pays_for_one_build(bool sqlite)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient { Gate = (_, ct) => release.Task.WaitAsync(ct) };
        await using ServiceProvider provider = Services(chat, sqlite ? _directory.File("jobs.db") : null);
        await using var host = await Started(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob first = await queue.EnqueueAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(5));
        RpmBuildJob second = await queue.EnqueueAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(5));
        Assert.Equal(first.Id, second.Id);
        Assert.Contains((await queue.GetJobAsync(first.Id))!.State, new[] { RpmBuildJobState.Pending, RpmBuildJobState.Running });
        release.SetResult();

        RpmBuildJob done = await queue.WaitAsync(first.Id);
        Assert.Equal(RpmBuildJobState.Succeeded, done.State);
        Assert.Equal(1, done.ModelVersion);
        Assert.Equal(2 * 5 + 1, chat.CallCount);
        Assert.Equal(5, (await provider.GetRequiredService<RpmPipeline>().GetUserModelAsync("u"))!.Paths.Count);
    }

    [Fact]
    public async Task A_running_job_reports_its_stage_and_share_done_and_a_finished_one_none()
    {
        // Stage 4 of a 4-item build held: features (4) and factors (1) are done, 5 of the 2N + 1 = 9 items.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient
        {
            Gate = (r, ct) =>
            {
                if (r.Stage != RpmStage.ReasoningPath)
                {
                    return Task.CompletedTask;
                }

                held.TrySetResult();
                return release.Task.WaitAsync(ct);
            },
        };
        await using ServiceProvider provider = Services(chat, _directory.File("progress.db"));
        await using var host = await Started(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob job = await queue.EnqueueAsync("p", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        RpmBuildJob running = (await queue.GetJobAsync(job.Id))!;

        Assert.Equal(RpmBuildJobState.Running, running.State);
        RpmBuildProgress progress = Assert.IsType<RpmBuildProgress>(running.Progress);
        Assert.Equal("reasoning_path", progress.Stage);
        Assert.Equal(4, progress.Total);
        Assert.Equal(0, progress.Completed);
        Assert.Equal(5.0 / 9, progress.Fraction, 6);

        release.SetResult();
        RpmBuildJob done = await queue.WaitAsync(job.Id);
        Assert.Equal(RpmBuildJobState.Succeeded, done.State);
        Assert.Null((await queue.GetJobAsync(job.Id))!.Progress);
    }

    [Fact]
    public async Task The_same_history_posted_again_after_its_build_finished_pays_nothing_a_longer_one_pays_its_new_items_and_a_changed_one_rebuilds()
    {
        var chat = new FakeChatClient();
        await using ServiceProvider provider = Services(chat, _directory.File("again.db"));
        await using var host = await Started(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob first = await queue.WaitAsync((await queue.EnqueueAsync("a", TestPipelines.Rating, TestPipelines.MovieHistory(3))).Id);
        int paid = chat.CallCount;
        RpmBuildJob again = await queue.WaitAsync((await queue.EnqueueAsync("a", TestPipelines.Rating, TestPipelines.MovieHistory(3))).Id);

        Assert.NotEqual(first.Id, again.Id);
        Assert.Equal(RpmBuildJobState.Succeeded, again.State);
        Assert.Equal(first.ModelVersion, again.ModelVersion);
        Assert.Equal(paid, chat.CallCount);

        // The saved three items and one more: an update (a feature call and a reasoning call for the new item), not 2N + 1.
        RpmBuildJob longer = await queue.WaitAsync((await queue.EnqueueAsync("a", TestPipelines.Rating, TestPipelines.MovieHistory(4))).Id);
        Assert.Equal(RpmBuildJobState.Succeeded, longer.State);
        Assert.Equal(first.ModelVersion + 1, longer.ModelVersion);
        Assert.Equal(paid + 2, chat.CallCount);
        Assert.Equal(4, (await provider.GetRequiredService<RpmPipeline>().GetUserModelAsync("a"))!.Paths.Count);

        // A saved item's rating changed: every path may reason toward a retracted answer, so the model is built again.
        List<HistoryItem> changed = TestPipelines.MovieHistory(4);
        changed[0] = new HistoryItem(changed[0].Id, changed[0].Input, changed[0].Output == "1" ? "2" : "1");
        RpmBuildJob rebuilt = await queue.WaitAsync((await queue.EnqueueAsync("a", TestPipelines.Rating, changed)).Id);
        Assert.Equal(longer.ModelVersion + 1, rebuilt.ModelVersion);
        Assert.Equal(paid + 2 + (2 * 4) + 1, chat.CallCount);
    }

    [Fact]
    public async Task A_failed_build_records_the_reason_and_the_worker_goes_on_with_the_next_job()
    {
        var chat = new FakeChatClient { Fail = r => r.Messages.Any(m => m.Text.Contains("bad-user-marker", StringComparison.Ordinal)) ? new HttpRequestException("endpoint refused") : null };
        await using ServiceProvider provider = Services(chat, _directory.File("fail.db"));
        await using var host = await Started(provider);
        RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();

        RpmBuildJob bad = await queue.EnqueueAsync("bad", TestPipelines.Rating, [new HistoryItem("x", "bad-user-marker movie", "4.5")]);
        RpmBuildJob good = await queue.EnqueueAsync("good", TestPipelines.Rating, TestPipelines.MovieHistory(2));

        RpmBuildJob failed = await queue.WaitAsync(bad.Id);
        Assert.Equal(RpmBuildJobState.Failed, failed.State);
        Assert.Contains("endpoint refused", failed.Error, StringComparison.Ordinal);
        Assert.Equal(RpmBuildJobState.Succeeded, (await queue.WaitAsync(good.Id)).State);
    }

    [Fact]
    public async Task With_sqlite_a_job_interrupted_by_shutdown_resumes_after_a_restart_without_paying_finished_calls_again()
    {
        string path = _directory.File("restart.db");
        List<HistoryItem> history = TestPipelines.MovieHistory(4);
        string jobId;

        // First process: features finish, the factor call hangs, and the host stops.
        var reachedFactors = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hang = new FakeChatClient
        {
            Gate = (r, ct) =>
            {
                if (r.Stage != RpmStage.FactorConstruction)
                {
                    return Task.CompletedTask;
                }

                reachedFactors.TrySetResult();
                return Task.Delay(Timeout.Infinite, ct);
            },
        };
        await using (ServiceProvider provider = Services(hang, path))
        {
            await using var host = await Started(provider);
            RpmBuildQueue queue = provider.GetRequiredService<RpmBuildQueue>();
            jobId = (await queue.EnqueueAsync("u", TestPipelines.Rating, history)).Id;
            await reachedFactors.Task;
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(RpmBuildJobState.Running, (await new SqliteBuildJobStore(new SqliteStoreOptions { Path = path }).GetAsync(jobId))!.State);

        // Second process on the same file: the job is resumed from the checkpoints.
        var chat = new FakeChatClient();
        await using (ServiceProvider provider = Services(chat, path))
        {
            await using var host = await Started(provider);
            RpmBuildJob done = await provider.GetRequiredService<RpmBuildQueue>().WaitAsync(jobId);
            Assert.Equal(RpmBuildJobState.Succeeded, done.State);
            Assert.Equal(2, done.Attempts);
        }

        Assert.Empty(chat.For(RpmStage.FeatureExtraction));
        Assert.Equal(1 + 4, chat.CallCount);
        Assert.Equal("[]", await SqliteSql.ScalarAsync(path, "SELECT history_json FROM rpm_build_jobs;"));
    }

    private static ServiceProvider Services(FakeChatClient chat, string? sqlitePath)
    {
        var services = new ServiceCollection();
        services.AddChatClient(chat);
        services.AddEmbeddingGenerator<string, Embedding<float>>(new HashingEmbeddingGenerator());
        RpmBuilder rpm = services.AddRpm();
        if (sqlitePath is not null)
        {
            rpm.UseSqliteStore(sqlitePath);
        }

        rpm.AddBackgroundBuilds();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static Task<HostedServices> Started(ServiceProvider provider) => HostedServices.StartAsync(provider);
}
