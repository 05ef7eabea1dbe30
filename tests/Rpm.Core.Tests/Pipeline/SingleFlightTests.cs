using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class SingleFlightTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Two_concurrent_builds_of_one_user_pay_for_one_build()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient { Gate = (_, ct) => release.Task.WaitAsync(ct) };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        List<HistoryItem> history = TestPipelines.MovieHistory(6);

        Task<UserModel> first = pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);
        Task<UserModel> second = pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        release.SetResult();
        UserModel[] models = await Task.WhenAll(first, second);

        Assert.Equal(2 * 6 + 1, chat.CallCount);
        Assert.Same(models[0], models[1]);
        Assert.Equal(1, models[0].Version);
        Assert.Equal(1, pipeline.JoinedBuildCount);
    }

    [Fact]
    public async Task The_same_new_items_added_twice_at_once_are_paid_once_and_added_once()
    {
        List<HistoryItem> all = TestPipelines.MovieHistory(6);
        var alone = new FakeChatClient();
        RpmPipeline reference = TestPipelines.Create(alone, miniLm.Generator);
        await reference.BuildUserModelAsync("u1", TestPipelines.Rating, all.Take(4));
        alone.Reset();
        await reference.AddHistoryAsync("u1", all.Skip(4));
        int oneUpdate = alone.CallCount;

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, all.Take(4));
        chat.Reset();
        chat.Gate = (_, ct) => release.Task.WaitAsync(ct);
        Task<UserModel> first = pipeline.AddHistoryAsync("u1", all.Skip(4));
        Task<UserModel> second = pipeline.AddHistoryAsync("u1", TestPipelines.MovieHistory(6).Skip(4));
        release.SetResult();
        UserModel[] models = await Task.WhenAll(first, second);

        Assert.True(oneUpdate > 0);
        Assert.Equal(oneUpdate, chat.CallCount);
        Assert.Same(models[0], models[1]);
        Assert.Equal(6, models[0].Paths.Count);
    }

    [Fact]
    public async Task A_different_build_of_the_same_user_waits_for_the_one_in_flight_and_then_saves_over_it()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient { Gate = (_, ct) => release.Task.WaitAsync(ct) };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);

        Task<UserModel> first = pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        Task<UserModel> second = pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(5));
        release.SetResult();
        UserModel[] models = await Task.WhenAll(first, second);

        // Serialized, not concurrent: no concurrency exception, the second saves version 2 over the first.
        Assert.Equal(1, models[0].Version);
        Assert.Equal(2, models[1].Version);
        Assert.Equal(5, models[1].Paths.Count);
        Assert.Equal(0, pipeline.JoinedBuildCount);
    }

    [Fact]
    public async Task Builds_of_different_users_run_concurrently()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient { Gate = (_, ct) => release.Task.WaitAsync(ct) };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);

        Task<UserModel> a = pipeline.BuildUserModelAsync("a", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        Task<UserModel> b = pipeline.BuildUserModelAsync("b", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        while (chat.CallCount < 6)
        {
            await Task.Yield();
        }

        release.SetResult();
        await Task.WhenAll(a, b);
        Assert.Equal(2 * (2 * 3 + 1), chat.CallCount);
    }

    [Fact]
    public async Task Erasing_a_user_cancels_the_build_in_flight_which_saves_nothing_and_pays_no_further_call()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient
        {
            // An endpoint that never answers the first reasoning call; only cancellation ends it.
            Gate = (r, ct) =>
            {
                if (r.Stage != RpmStage.ReasoningPath)
                {
                    return Task.CompletedTask;
                }

                started.TrySetResult();
                return Task.Delay(Timeout.Infinite, ct);
            },
        };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o =>
        {
            o.ReasoningBatchSize = 1;
            o.MaxConcurrency = 1;
        });
        Task<UserModel> build = pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        int paid = chat.CallCount;
        Assert.Equal(4 + 1 + 1, paid);   // the features, the factors and the first of four reasoning calls

        Assert.False(await pipeline.EraseUserAsync("u").WaitAsync(TimeSpan.FromSeconds(30)));   // no model was saved yet
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => build);
        Assert.Null(await pipeline.GetUserModelAsync("u"));
        Assert.Equal(paid, chat.CallCount);
    }

    [Fact]
    public async Task An_erasure_whose_caller_stops_waiting_still_erases_the_user()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        // An update in flight that ignores cancellation for a while (a slow store write, say): the erasure waits for it.
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        chat.Gate = (_, _) =>
        {
            inFlight.TrySetResult();
            return release.Task;
        };
        Task<UserModel> update = pipeline.AddHistoryAsync("u", [new HistoryItem("late", "Up (2009). Genres: Animation.", "4.0")]);
        await inFlight.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var gone = new CancellationTokenSource();
        Task<bool> erase = pipeline.EraseUserAsync("u", gone.Token);
        gone.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => erase);

        release.SetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => update);
        for (int i = 0; i < 100 && await pipeline.GetUserModelAsync("u") is not null; i++)
        {
            await Task.Delay(50);
        }

        Assert.Null(await pipeline.GetUserModelAsync("u"));
    }
}
