using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class ResumeTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task A_cancelled_build_resumes_without_repeating_any_successful_call()
    {
        // Cancel after the 6th reasoning call has started: the first build pays for 8 features, 1 factor call and
        // some reasoning paths; the resumed build must pay only for the reasoning paths that had not finished.
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
        var checkpoints = new InMemoryBuildCheckpointStore();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.MaxConcurrency = 1, checkpoints: checkpoints);
        List<HistoryItem> history = TestPipelines.MovieHistory(8);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history, cts.Token));
        Assert.Null(await pipeline.GetUserModelAsync("u1"));
        int firstRun = chat.CallCount;
        Assert.Equal(8 + 1 + 6, firstRun);

        chat.Gate = null;
        chat.Reset();
        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);

        // Reasoning calls 1-5 succeeded; call 6 was cancelled: 3 reasoning calls remain.
        Assert.Equal(3, chat.CallCount);
        Assert.All(chat.Requests, r => Assert.Equal(RpmStage.ReasoningPath, r.Stage));
        Assert.Equal(8, model.Paths.Count);
        Assert.Equal(2 * 8 + 1, model.BuildUsage.Calls); // the model's cost counts every paid call once

        // A successful build clears its checkpoints: building again pays for everything again.
        chat.Reset();
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);
        Assert.Equal(2 * 8 + 1, chat.CallCount);
    }

    [Fact]
    public async Task A_model_outage_mid_build_resumes_where_it_stopped()
    {
        int featureCalls = 0;
        var chat = new FakeChatClient
        {
            Fail = r => r.Stage == RpmStage.FeatureExtraction && Interlocked.Increment(ref featureCalls) > 4 ? new HttpRequestException("503") : null,
        };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.MaxConcurrency = 1);
        List<HistoryItem> history = TestPipelines.MovieHistory(6);

        var ex = await Assert.ThrowsAsync<RpmStageException>(() => pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history));
        Assert.Equal(RpmStage.FeatureExtraction, ex.Stage);

        chat.Fail = null;
        chat.Reset();
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);

        Assert.Equal(2, chat.For(RpmStage.FeatureExtraction).Count);
        Assert.Single(chat.For(RpmStage.FactorConstruction));
        Assert.Equal(6, chat.For(RpmStage.ReasoningPath).Count);
    }

    [Fact]
    public async Task A_changed_item_is_extracted_again_on_resume()
    {
        var chat = new FakeChatClient { Fail = r => r.Stage == RpmStage.FactorConstruction ? new HttpRequestException("down") : null };
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        List<HistoryItem> history = TestPipelines.MovieHistory(4);
        await Assert.ThrowsAsync<RpmStageException>(() => pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history));

        chat.Fail = null;
        chat.Reset();
        history[2] = new HistoryItem(history[2].Id, "Brazil (1985). Genres: Fantasy, Sci-Fi.", "5.0");
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);

        Assert.Equal("h2", Assert.Single(chat.For(RpmStage.FeatureExtraction)).ItemId);
    }
}
