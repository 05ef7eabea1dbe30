using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class FallbackTests(MiniLmFixture miniLm)
{
    private const string Query = "movie: Aliens (1986). Genres: Action, Adventure, Horror, Sci-Fi.";

    private async Task<(RpmPipeline Pipeline, UserModel Model, FakeChatClient Chat)> BuildAsync(bool fallback)
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.FallbackToModelFree = fallback);
        UserModel model = await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(12));
        return (pipeline, model, chat);
    }

    [Fact]
    public async Task When_generation_fails_the_answer_comes_from_statistics_and_retrieved_items()
    {
        var (pipeline, model, chat) = await BuildAsync(fallback: true);
        chat.Fail = r => r.Stage == RpmStage.Generation ? new HttpRequestException("503 Service Unavailable") : null;

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        Assert.True(response.IsFallback);
        Assert.Contains("Generation", response.FallbackReason);
        Assert.Contains("503", response.FallbackReason);
        Assert.NotEmpty(response.QueryFeatures);
        Assert.Equal(3, response.Examples.Count);
        // The history rates every sci-fi movie 4.5 and everything else 1.5 (mean 3.0); the nearest items are sci-fi,
        // so the prediction lies well above the user's mean (shrunk toward it, as the predictor documents).
        Assert.InRange(double.Parse(response.Answer, System.Globalization.CultureInfo.InvariantCulture), 3.5, 4.5);
        Assert.False(string.IsNullOrWhiteSpace(response.Rationale));
    }

    [Fact]
    public async Task When_query_extraction_fails_the_query_text_is_the_retrieval_key()
    {
        var (pipeline, model, chat) = await BuildAsync(fallback: true);
        chat.Respond = r => r.Stage == RpmStage.QueryFeatureExtraction ? "I cannot help with that." : null;

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        Assert.True(response.IsFallback);
        Assert.Contains("QueryFeatureExtraction", response.FallbackReason);
        Assert.Empty(response.QueryFeatures);
        Assert.Equal(3, response.Examples.Count);
        Assert.True(TestPipelines.Rating.TryNormalizeAnswer(response.Answer, null, out _, out _));
        Assert.DoesNotContain(chat.Requests, r => r.Stage == RpmStage.Generation);
    }

    [Fact]
    public async Task Without_the_option_a_failure_is_thrown()
    {
        var (pipeline, model, chat) = await BuildAsync(fallback: false);
        chat.Fail = r => r.Stage == RpmStage.Generation ? new HttpRequestException("down") : null;
        await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, Query));
    }

    [Fact]
    public async Task Generation_tasks_cannot_fall_back()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.FallbackToModelFree = true);
        UserModel model = await pipeline.BuildUserModelAsync("u", RpmTask.Generation("titles", "Write a title."), [new HistoryItem("1", "An abstract about graphs.", "Graphs")]);
        chat.Fail = r => r.Stage == RpmStage.Generation ? new HttpRequestException("down") : null;
        await Assert.ThrowsAsync<RpmStageException>(() => pipeline.RespondAsync(model, "An abstract about trees."));
    }

    [Fact]
    public async Task A_model_that_answers_is_not_replaced()
    {
        var (pipeline, model, _) = await BuildAsync(fallback: true);
        RpmResponse response = await pipeline.RespondAsync(model, Query);
        Assert.False(response.IsFallback);
        Assert.Null(response.FallbackReason);
    }
}
