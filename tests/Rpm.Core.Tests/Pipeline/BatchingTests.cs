using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class BatchingTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Batched_stages_cut_the_calls_and_build_the_same_model()
    {
        List<HistoryItem> history = TestPipelines.MovieHistory(10);
        var single = new FakeChatClient();
        UserModel reference = await TestPipelines.Create(single, miniLm.Generator).BuildUserModelAsync("u", TestPipelines.Rating, history);

        var batched = new FakeChatClient();
        UserModel model = await TestPipelines.Create(batched, miniLm.Generator, o =>
        {
            o.FeatureExtractionBatchSize = 4;
            o.ReasoningBatchSize = 5;
        }).BuildUserModelAsync("u", TestPipelines.Rating, history);

        // 10 items: 3 feature calls (4 + 4 + 2), 1 factor call, 2 reasoning calls (5 + 5) instead of 21.
        Assert.Equal(21, single.CallCount);
        Assert.Equal(6, batched.CallCount);
        Assert.Equal([4, 4, 2], batched.For(RpmStage.FeatureExtraction).Select(r => r.ItemIds.Count).Order().Reverse());
        Assert.All(batched.For(RpmStage.ReasoningPath), r => Assert.Equal(5, r.ItemIds.Count));
        Assert.Equal(6, model.BuildUsage.Calls);

        // The statistics are sent once per reasoning batch, and every item still has its own answer in the prompt.
        FakeRequest reasoning = batched.For(RpmStage.ReasoningPath)[0];
        Assert.Equal(model.Statistics.Count, reasoning.Data["factors"]!.AsArray().Count);
        Assert.All(reasoning.Data["items"]!.AsArray(), i => Assert.NotNull(i!["userAnswer"]));

        Assert.Equal(reference.Paths.Select(p => FeatureText.Compose(p.Features)), model.Paths.Select(p => FeatureText.Compose(p.Features)));
        Assert.Equal(reference.Paths.Select(p => p.Reasoning), model.Paths.Select(p => p.Reasoning));
        Assert.Equal(reference.Statistics.Select(s => (s.Factor.Name, s.Coverage)), model.Statistics.Select(s => (s.Factor.Name, s.Coverage)));
    }

    [Fact]
    public async Task A_batch_answer_missing_an_item_is_retried_naming_it()
    {
        var chat = new FakeChatClient
        {
            Respond = r => r.Stage == RpmStage.FeatureExtraction && r.Attempt == 1
                ? """{"items":[{"itemId":"h0","features":[{"name":"Space","context":"space","factor":"Imagination"}]}]}"""
                : null,
        };

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator, o => o.FeatureExtractionBatchSize = 2)
            .BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(2));

        FakeRequest retry = chat.For(RpmStage.FeatureExtraction)[1];
        Assert.Equal(2, retry.Attempt);
        Assert.Contains("missing: h1", retry.Messages[^1].Text);
        Assert.Equal(2, model.Paths.Count);
    }

    [Fact]
    public async Task A_batch_that_keeps_failing_names_its_items()
    {
        var chat = new FakeChatClient { Respond = r => r.Stage == RpmStage.ReasoningPath ? """{"items":[]}""" : null };
        var ex = await Assert.ThrowsAsync<RpmModelOutputException>(() => TestPipelines.Create(chat, miniLm.Generator, o => o.ReasoningBatchSize = 3)
            .BuildUserModelAsync("u", TestPipelines.Rating, TestPipelines.MovieHistory(3)));
        Assert.Equal(RpmStage.ReasoningPath, ex.Stage);
        Assert.Equal("h0,h1,h2", ex.ItemId);
    }

    [Fact]
    public async Task Batched_incremental_updates_use_factor_aware_batches()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.FeatureExtractionBatchSize = 8);
        List<HistoryItem> all = TestPipelines.MovieHistory(12);
        await pipeline.BuildUserModelAsync("u", TestPipelines.Rating, all.Take(8));
        chat.Reset();

        UserModel updated = await pipeline.AddHistoryAsync("u", all.Skip(8));

        FakeRequest extraction = Assert.Single(chat.For(RpmStage.QueryFeatureExtraction));
        Assert.Equal(["h8", "h9", "h10", "h11"], extraction.ItemIds);
        Assert.NotNull(extraction.Data["factors"]);
        Assert.Equal(12, updated.Paths.Count);
    }
}
