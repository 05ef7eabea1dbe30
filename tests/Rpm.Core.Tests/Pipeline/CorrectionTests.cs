using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

/// <summary>Removing and correcting single history items: what is paid, what is kept, what is counted again.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class CorrectionTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Removing_an_item_costs_no_call_keeps_every_other_path_and_recounts_the_statistics()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        UserModel built = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        chat.Reset();

        UserModel removed = await pipeline.RemoveHistoryAsync("u1", ["h2"]);

        Assert.Equal(0, chat.CallCount);
        Assert.Equal(built.Version + 1, removed.Version);
        Assert.Equal(built.BuildUsage, removed.BuildUsage);
        Assert.Equal(["h0", "h1", "h3", "h4", "h5"], removed.Paths.Select(p => p.Item.Id));
        Assert.Equal(built.Paths.Where(p => p.Item.Id != "h2").Select(p => (p.Reasoning, p.Embedding.ToArray().Sum())), removed.Paths.Select(p => (p.Reasoning, p.Embedding.ToArray().Sum())));
        Assert.Equal([.. built.Factors.Select(f => f.Name)], removed.Factors.Select(f => f.Name));
        await AssertRecountedAsync(removed);
        Assert.NotEqual(built.Statistics.Sum(s => s.Coverage), removed.Statistics.Sum(s => s.Coverage));

        // The item is gone from what the store keeps, and from an export.
        string export = System.Text.Encoding.UTF8.GetString((await pipeline.ExportUserAsync("u1"))!);
        Assert.DoesNotContain("Blade Runner", export, StringComparison.Ordinal);
        Assert.Equal(5, (await pipeline.GetUserModelAsync("u1"))!.Paths.Count);
    }

    [Fact]
    public async Task Removing_an_unknown_or_every_item_is_refused_naming_the_item_and_saves_nothing()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        UserModel built = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => pipeline.RemoveHistoryAsync("u1", ["h1", "nope"]));
        Assert.Contains("'nope'", unknown.Message, StringComparison.Ordinal);
        var all = await Assert.ThrowsAsync<ArgumentException>(() => pipeline.RemoveHistoryAsync("u1", ["h0", "h1", "h2"]));
        Assert.Contains(nameof(RpmPipeline.EraseUserAsync), all.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => pipeline.RemoveHistoryAsync("u1", ["h1", "h1"]));
        await Assert.ThrowsAsync<ArgumentException>(() => pipeline.RemoveHistoryAsync("u1", []));
        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RemoveHistoryAsync("nobody", ["h1"]));

        Assert.Equal(built.Version, (await pipeline.GetUserModelAsync("u1"))!.Version);
    }

    [Fact]
    public async Task A_changed_rating_rewrites_only_that_items_reasoning_path_and_keeps_its_features_and_retrieval_key()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        UserModel built = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        ReasoningPath before = built.Paths.Single(p => p.Item.Id == "h2");
        chat.Reset();

        HistoryItem changed = new("h2", before.Item.Input, "1.0");
        UserModel corrected = await pipeline.CorrectHistoryAsync("u1", [changed]);

        // One reasoning call, for that item, told the new answer; no feature extraction, no factor construction.
        FakeRequest call = Assert.Single(chat.Requests);
        Assert.Equal(RpmStage.ReasoningPath, call.Stage);
        Assert.Equal("h2", call.ItemId);
        Assert.Equal(built.BuildUsage.Calls + 1, corrected.BuildUsage.Calls);

        ReasoningPath after = corrected.Paths.Single(p => p.Item.Id == "h2");
        Assert.Equal("1.0", after.Item.Output);
        Assert.Equal(before.Features, after.Features);
        Assert.Equal(before.Embedding.ToArray(), after.Embedding.ToArray());
        Assert.Equal(built.Paths.Select(p => p.Item.Id), corrected.Paths.Select(p => p.Item.Id));
        Assert.Equal(
            built.Paths.Where(p => p.Item.Id != "h2").Select(p => p.Reasoning),
            corrected.Paths.Where(p => p.Item.Id != "h2").Select(p => p.Reasoning));
        await AssertRecountedAsync(corrected);

        // The same correction again changes nothing and pays nothing.
        chat.Reset();
        UserModel again = await pipeline.CorrectHistoryAsync("u1", [changed]);
        Assert.Equal(0, chat.CallCount);
        Assert.Equal(corrected.Version, again.Version);
    }

    [Fact]
    public async Task A_changed_input_is_read_and_embedded_again_with_the_saved_factors()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        UserModel built = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        ReasoningPath before = built.Paths.Single(p => p.Item.Id == "h1");
        chat.Reset();

        UserModel corrected = await pipeline.CorrectHistoryAsync("u1", [new HistoryItem("h1", "Aliens (1986). Genres: Action, Horror, Sci-Fi.", "4.5")]);

        // Factor-aware extraction (tagged with the saved factors, as stage 5 reads a query) and one reasoning path.
        Assert.Equal(2, chat.CallCount);
        Assert.Single(chat.For(RpmStage.QueryFeatureExtraction));
        Assert.Single(chat.For(RpmStage.ReasoningPath));
        ReasoningPath after = corrected.Paths.Single(p => p.Item.Id == "h1");
        Assert.NotEqual(before.Embedding.ToArray(), after.Embedding.ToArray());
        Assert.Equal([.. built.Factors.Select(f => f.Name)], corrected.Factors.Select(f => f.Name));
        await AssertRecountedAsync(corrected);
    }

    [Fact]
    public async Task A_generation_item_whose_text_changed_is_judged_again_before_its_path_is_written()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        RpmTask task = RpmTask.Generation("titles", "Write the title of a paper from its abstract.");
        HistoryItem[] history =
        [
            new("p1", "We study graph neural networks for molecules.", "Graph networks for molecular property prediction"),
            new("p2", "A survey of retrieval augmented generation.", "Retrieval augmented generation: a survey"),
        ];
        await pipeline.BuildUserModelAsync("u1", task, history);
        chat.Reset();

        await pipeline.CorrectHistoryAsync("u1", [new HistoryItem("p2", history[1].Input, "RAG, surveyed")]);

        Assert.Equal(2, chat.CallCount);
        FakeRequest judgment = Assert.Single(chat.For(RpmStage.InfluenceJudgment));
        Assert.Contains("RAG, surveyed", judgment.DataText, StringComparison.Ordinal);
        Assert.Single(chat.For(RpmStage.ReasoningPath));
    }

    [Fact]
    public async Task Correcting_an_item_the_model_does_not_have_or_an_invalid_answer_is_refused_before_any_call()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        chat.Reset();

        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => pipeline.CorrectHistoryAsync("u1", [new HistoryItem("h9", "Up (2009).", "4.0")]));
        Assert.Contains("'h9'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RpmPipeline.AddHistoryAsync), unknown.Message, StringComparison.Ordinal);
        var invalid = await Assert.ThrowsAsync<ArgumentException>(() => pipeline.CorrectHistoryAsync("u1", [new HistoryItem("h1", "Notting Hill (1999).", "eleven")]));
        Assert.Contains("'h1'", invalid.Message, StringComparison.Ordinal);
        Assert.Equal(0, chat.CallCount);
    }

    [Fact]
    public async Task A_failed_correction_saves_nothing_and_resumes_from_its_checkpoints()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.ReasoningBatchSize = 1);
        UserModel built = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(6));
        HistoryItem[] changes = [new("h0", built.Paths[0].Item.Input, "1.0"), new("h3", built.Paths[3].Item.Input, "4.0")];
        chat.Reset();
        chat.Fail = r => r.Stage == RpmStage.ReasoningPath && r.ItemId == "h3" ? new HttpRequestException("503 Service Unavailable") : null;

        await Assert.ThrowsAnyAsync<Exception>(() => pipeline.CorrectHistoryAsync("u1", changes));
        Assert.Equal(built.Version, (await pipeline.GetUserModelAsync("u1"))!.Version);

        // Run again: h0's finished path comes from the checkpoint, only h3 is paid again.
        int paid = chat.For(RpmStage.ReasoningPath).Count(r => r.ItemId == "h0");
        chat.Fail = null;
        UserModel corrected = await pipeline.CorrectHistoryAsync("u1", changes);
        Assert.Equal(paid, chat.For(RpmStage.ReasoningPath).Count(r => r.ItemId == "h0"));
        Assert.Equal("4.0", corrected.Paths.Single(p => p.Item.Id == "h3").Item.Output);
        Assert.Equal("1.0", corrected.Paths.Single(p => p.Item.Id == "h0").Item.Output);
    }

    private static async Task AssertRecountedAsync(UserModel model)
    {
        IReadOnlyList<FactorStatistics> recount = await new StatisticsBuilder().ComputeStatisticsAsync(
            model.Task, [.. model.Factors], [.. model.Paths.Select(p => new ItemFeatures(p.Item, p.Features))]);
        Assert.Equal(recount.Select(s => (s.Factor.Name, s.Coverage, s.Propensity, s.MeanRating)), model.Statistics.Select(s => (s.Factor.Name, s.Coverage, s.Propensity, s.MeanRating)));
    }
}
