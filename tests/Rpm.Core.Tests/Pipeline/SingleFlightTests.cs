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
}
