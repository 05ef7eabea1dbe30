using System.Collections.Concurrent;
using Rpm.Tests;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;

namespace Rpm.Storage.Tests.Pipeline;

/// <summary>
/// Builds over a persistent store, each "restart" being a new pipeline over new store instances of the same database:
/// nothing saved is lost, and no model call that succeeded is paid for twice.
/// </summary>
public abstract class PersistentPipelineTests
{
    private readonly MiniLmFixture _miniLm;

    protected PersistentPipelineTests(MiniLmFixture miniLm)
    {
        _miniLm = miniLm;
    }

    protected abstract (IUserModelStore Models, IBuildCheckpointStore Checkpoints) OpenStores();

    protected abstract Task ExecuteSqlAsync(string sql);

    protected abstract Task<long> CountCheckpointRowsAsync(string userId);

    /// <summary>SQL that makes every write of the user's model row fail inside the save's transaction.</summary>
    protected abstract string FailWritesOfUserSql(string userId);

    protected abstract string StopFailingWritesSql { get; }

    protected static string NewUser() => "user-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A new process: a new pipeline over new store instances of the same database.</summary>
    protected RpmPipeline Restart(FakeChatClient chat, Action<RpmOptions>? configure = null)
    {
        var (models, checkpoints) = OpenStores();
        return TestPipelines.Create(chat, _miniLm.Generator, configure, models, checkpoints);
    }

    [Fact]
    public async Task A_cancelled_build_resumes_after_a_restart_without_repeating_a_successful_call()
    {
        string user = NewUser();
        using var cts = new CancellationTokenSource();
        int reasoningCalls = 0;
        var chat = new FakeChatClient
        {
            Gate = (r, ct) =>
            {
                if (r.Stage == RpmStage.ReasoningPath && Interlocked.Increment(ref reasoningCalls) == 6)
                {
                    cts.Cancel();
                    ct.ThrowIfCancellationRequested();
                }

                return Task.CompletedTask;
            },
        };
        List<HistoryItem> history = TestPipelines.MovieHistory(8);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Restart(chat, o => o.MaxConcurrency = 1).BuildUserModelAsync(user, TestPipelines.Rating, history, cts.Token));
        Assert.Equal(8 + 1 + 6, chat.CallCount);
        Assert.Equal(8 + 1 + 5, await CountCheckpointRowsAsync(user));
        Assert.Null(await OpenStores().Models.GetAsync(user));

        var resumed = new FakeChatClient();
        UserModel model = await Restart(resumed).BuildUserModelAsync(user, TestPipelines.Rating, history);

        // Reasoning calls 1-5 succeeded before the cancellation; only 6, 7 and 8 are paid for again.
        Assert.Equal(3, resumed.CallCount);
        Assert.All(resumed.Requests, r => Assert.Equal(RpmStage.ReasoningPath, r.Stage));
        Assert.Equal(["h5", "h6", "h7"], resumed.Requests.Select(r => r.ItemId!).Order(StringComparer.Ordinal));
        Assert.Equal(2 * 8 + 1, model.BuildUsage.Calls);
        Assert.Equal(8, (await OpenStores().Models.GetAsync(user))!.Paths.Count);
        Assert.Equal(0, await CountCheckpointRowsAsync(user));
    }

    [Fact]
    public async Task A_model_outage_for_a_while_then_recovery_pays_for_each_successful_call_once_and_keeps_the_saved_model()
    {
        string user = NewUser();
        UserModel before = await Restart(new FakeChatClient()).BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3));

        // The model answers 5 calls, then is down for three attempts (each a restart), then comes back.
        var succeeded = new ConcurrentQueue<string>();
        int answered = 0;
        bool down = false;
        var chat = new FakeChatClient
        {
            Fail = r =>
            {
                if (Volatile.Read(ref down) || Interlocked.Increment(ref answered) > 5)
                {
                    Volatile.Write(ref down, true);
                    return new HttpRequestException("503 Service Unavailable");
                }

                succeeded.Enqueue($"{r.Stage}/{r.ItemId}");
                return null;
            },
        };
        List<HistoryItem> history = TestPipelines.MovieHistory(8);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            await Assert.ThrowsAsync<RpmStageException>(() => Restart(chat, o => o.MaxConcurrency = 2).BuildUserModelAsync(user, TestPipelines.Rating, history));
            Models.AssertSame(before, (await OpenStores().Models.GetAsync(user))!);
        }

        Volatile.Write(ref down, false);
        chat.Fail = r =>
        {
            succeeded.Enqueue($"{r.Stage}/{r.ItemId}");
            return null;
        };
        UserModel after = await Restart(chat).BuildUserModelAsync(user, TestPipelines.Rating, history);

        Assert.Equal(2 * 8 + 1, succeeded.Count);
        Assert.Equal(succeeded.Count, succeeded.Distinct().Count());
        Assert.Equal(before.Version + 1, after.Version);
        Assert.Equal(8, after.Paths.Count);
    }

    [Fact]
    public async Task A_store_that_fails_mid_save_keeps_the_previous_model_and_the_rerun_pays_nothing()
    {
        string user = NewUser();
        UserModel before = await Restart(new FakeChatClient()).BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(4));
        List<HistoryItem> history = TestPipelines.MovieHistory(6);

        await ExecuteSqlAsync(FailWritesOfUserSql(user));
        var chat = new FakeChatClient();
        try
        {
            Exception failure = await Assert.ThrowsAnyAsync<Exception>(() => Restart(chat).BuildUserModelAsync(user, TestPipelines.Rating, history));
            Assert.Contains("injected failure", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteSqlAsync(StopFailingWritesSql);
        }

        Assert.Equal(2 * 6 + 1, chat.CallCount);
        Models.AssertSame(before, (await OpenStores().Models.GetAsync(user))!);
        Assert.Equal(2 * 6 + 1, await CountCheckpointRowsAsync(user));

        var rerun = new FakeChatClient();
        UserModel after = await Restart(rerun).BuildUserModelAsync(user, TestPipelines.Rating, history);
        Assert.Equal(0, rerun.CallCount);
        Assert.Equal(6, after.Paths.Count);
        Assert.Equal(before.Version + 1, after.Version);
    }

    [Fact]
    public async Task AddHistory_after_a_restart_pays_for_the_new_items_only_and_statistics_equal_a_recount()
    {
        string user = NewUser();
        List<HistoryItem> all = TestPipelines.MovieHistory(12);
        var first = new FakeChatClient();
        UserModel built = await Restart(first).BuildUserModelAsync(user, TestPipelines.Rating, all.Take(10));
        Assert.Equal(2 * 10 + 1, first.CallCount);

        var chat = new FakeChatClient();
        UserModel updated = await Restart(chat).AddHistoryAsync(user, all.Skip(10));

        Assert.Equal(2 * 2, chat.CallCount);
        Assert.Equal(2, chat.For(RpmStage.ReasoningPath).Count);
        Assert.Empty(chat.For(RpmStage.FactorConstruction));
        Assert.Equal(built.Version + 1, updated.Version);
        UserModel stored = (await OpenStores().Models.GetAsync(user))!;
        Models.AssertSame(updated, stored);
        Assert.Equal(built.Paths.Select(p => p.Reasoning), stored.Paths.Take(10).Select(p => p.Reasoning));

        IReadOnlyList<FactorStatistics> recount = await new StatisticsBuilder().ComputeStatisticsAsync(
            TestPipelines.Rating, [.. stored.Factors], [.. stored.Paths.Select(p => new ItemFeatures(p.Item, p.Features))]);
        Assert.Equal(recount.Count, stored.Statistics.Count);
        for (int i = 0; i < recount.Count; i++)
        {
            Assert.Equal(recount[i].Factor.Name, stored.Statistics[i].Factor.Name);
            Assert.Equal(recount[i].Coverage, stored.Statistics[i].Coverage);
            Assert.Equal(recount[i].LabelCounts, stored.Statistics[i].LabelCounts);
            Assert.Equal(recount[i].Propensity, stored.Statistics[i].Propensity);
            Assert.Equal(recount[i].MeanRating, stored.Statistics[i].MeanRating);
        }

        // Three more items the next day: again only their calls.
        chat.Reset();
        UserModel again = await Restart(chat).AddHistoryAsync(user, [new HistoryItem("n1", "Heat (1995). Genres: Action, Crime.", "3.0"), new HistoryItem("n2", "Brazil (1985). Genres: Fantasy, Sci-Fi.", "5.0"), new HistoryItem("n3", "Big (1988). Genres: Comedy, Fantasy.", "2.0")]);
        Assert.Equal(2 * 3, chat.CallCount - chat.For(RpmStage.FactorConstruction).Count);
        Assert.Equal(15, again.Paths.Count);
    }

    [Fact]
    public async Task Two_hosts_adding_history_to_one_user_at_once_lose_nothing()
    {
        string user = NewUser();
        await Restart(new FakeChatClient()).BuildUserModelAsync(user, TestPipelines.Rating, TestPipelines.MovieHistory(3));

        // Host A's update is held in its reasoning call while host B adds its own item and saves.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inReasoning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chatA = new FakeChatClient
        {
            Gate = async (r, ct) =>
            {
                if (r.Stage == RpmStage.ReasoningPath)
                {
                    inReasoning.TrySetResult();
                    await release.Task.WaitAsync(ct);
                }
            },
        };
        Task<UserModel> hostA = Restart(chatA).AddHistoryAsync(user, [new HistoryItem("a1", "Heat (1995). Genres: Action, Crime.", "3.0")]);
        await inReasoning.Task;
        UserModel fromB = await Restart(new FakeChatClient()).AddHistoryAsync(user, [new HistoryItem("b1", "Big (1988). Genres: Comedy, Fantasy.", "2.0")]);
        release.SetResult();

        var conflict = await Assert.ThrowsAsync<UserModelConcurrencyException>(() => hostA);
        Assert.Equal(fromB.Version, conflict.ActualVersion);

        // Host A retries on the fresh model: B's update may have changed the factors its item is tagged with, so the
        // item's features are asked again (B's item's are not). When too many of them fit no factor, the factors are
        // rebuilt and every stored path is written again against the new ones; otherwise only a1 gets a reasoning call.
        var retry = new FakeChatClient();
        UserModel merged = await Restart(retry).AddHistoryAsync(user, [new HistoryItem("a1", "Heat (1995). Genres: Action, Crime.", "3.0")]);
        Assert.Equal(["h0", "h1", "h2", "b1", "a1"], merged.Paths.Select(p => p.Item.Id));
        Assert.Equal(fromB.Version + 1, merged.Version);
        Assert.Equal(["a1"], retry.Requests.Where(r => r.Stage is RpmStage.FeatureExtraction or RpmStage.QueryFeatureExtraction).Select(r => r.ItemId));
        bool rebuilt = retry.For(RpmStage.FactorConstruction).Count == 1;
        string[] reasoned = [.. retry.For(RpmStage.ReasoningPath).Select(r => r.ItemId!).Order(StringComparer.Ordinal)];
        Assert.Equal(rebuilt ? ["a1", "b1", "h0", "h1", "h2"] : ["a1"], reasoned);
    }
}
