using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class ValidationTests(MiniLmFixture miniLm)
{
    private RpmPipeline Pipeline(FakeChatClient? chat = null) => TestPipelines.Create(chat ?? new FakeChatClient(), miniLm.Generator);

    [Fact]
    public async Task Bad_build_arguments_are_rejected_before_any_model_call()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = Pipeline(chat);
        RpmTask task = TestPipelines.Rating;

        await Assert.ThrowsAsync<ArgumentException>(() => pipeline.BuildUserModelAsync(" ", task, TestPipelines.MovieHistory(2)));
        await Assert.ThrowsAsync<ArgumentNullException>(() => pipeline.BuildUserModelAsync("u", null!, TestPipelines.MovieHistory(2)));
        await Assert.ThrowsAsync<ArgumentNullException>(() => pipeline.BuildUserModelAsync("u", task, null!));
        Assert.Contains("is empty", (await Assert.ThrowsAsync<ArgumentException>(() => pipeline.BuildUserModelAsync("u", task, []))).Message);

        HistoryItem[] duplicate = [new("same", "a", "1.0"), new("same", "b", "2.0")];
        Assert.Contains("'same' appears more than once", (await Assert.ThrowsAsync<ArgumentException>(() => pipeline.BuildUserModelAsync("u", task, duplicate))).Message);

        HistoryItem[] offScale = [new("ok", "a", "1.0"), new("bad", "b", "7")];
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => pipeline.BuildUserModelAsync("u", task, offScale));
        Assert.Contains("'bad'", ex.Message);
        Assert.Contains("outside the scale", ex.Message);

        Assert.Contains("position 1", (await Assert.ThrowsAsync<ArgumentException>(() => pipeline.BuildUserModelAsync("u", task, [new("a", "a", "1.0"), null!]))).Message);
        Assert.Equal(0, chat.CallCount);
        Assert.Null(await pipeline.GetUserModelAsync("u"));
    }

    [Fact]
    public void History_items_reject_blank_fields()
    {
        Assert.Throws<ArgumentException>(() => new HistoryItem("", "input", "out"));
        Assert.Throws<ArgumentException>(() => new HistoryItem("id", " ", "out"));
        Assert.Throws<ArgumentNullException>(() => new HistoryItem("id", "input", null!));
        Assert.Throws<ArgumentException>(() => new RpmQuery(""));
        Assert.Throws<ArgumentException>(() => new Feature("name", ""));
    }

    [Fact]
    public async Task Respond_rejects_bad_arguments()
    {
        RpmPipeline pipeline = Pipeline();
        UserModel model = await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        await Assert.ThrowsAsync<ArgumentNullException>(() => pipeline.RespondAsync((UserModel)null!, "q"));
        await Assert.ThrowsAsync<ArgumentNullException>(() => pipeline.RespondAsync(model, null!));

        UserModel multipleChoice = new("u2", RpmTask.MultipleChoice("mc", "Pick."), [], []);
        Assert.Contains("has no options", (await Assert.ThrowsAsync<ArgumentException>(() => pipeline.RespondAsync(multipleChoice, "Which?"))).Message);
    }

    [Theory]
    [InlineData(nameof(RpmOptions.RetrievalCount), 0)]
    [InlineData(nameof(RpmOptions.MaxConcurrency), 0)]
    [InlineData(nameof(RpmOptions.MaxOutputRetries), -1)]
    [InlineData(nameof(RpmOptions.MaxFeaturesPerItem), 0)]
    [InlineData(nameof(RpmOptions.MaxFactors), 1)]
    [InlineData(nameof(RpmOptions.EmbeddingBatchSize), 0)]
    public void Invalid_options_are_named(string property, int value)
    {
        var options = new RpmOptions();
        typeof(RpmOptions).GetProperty(property)!.SetValue(options, value);
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(property, ex.Message);
        Assert.Throws<ArgumentException>(() => TestPipelines.Create(new FakeChatClient(), miniLm.Generator, o => typeof(RpmOptions).GetProperty(property)!.SetValue(o, value)));
    }

    [Fact]
    public async Task A_failed_build_leaves_the_previous_model_intact()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = Pipeline(chat);
        UserModel first = await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        chat.Fail = r => r.Stage == RpmStage.ReasoningPath ? new HttpRequestException("down") : null;
        await Assert.ThrowsAsync<RpmStageException>(() => pipeline.BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(5)));

        Assert.Same(first, await pipeline.GetUserModelAsync("u"));
    }
}
