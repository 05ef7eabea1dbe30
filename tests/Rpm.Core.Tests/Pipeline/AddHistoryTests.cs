using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class AddHistoryTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task Only_new_items_cost_calls_and_statistics_equal_a_full_recount()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        List<HistoryItem> all = TestPipelines.MovieHistory(12);
        UserModel built = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, all.Take(10));
        chat.Reset();

        UserModel updated = await pipeline.AddHistoryAsync("u1", all.Skip(10));

        // Two new items: one factor-aware extraction and one reasoning path each; no factor call.
        Assert.Equal(4, chat.CallCount);
        Assert.Equal(2, chat.For(RpmStage.QueryFeatureExtraction).Count);
        Assert.Equal(2, chat.For(RpmStage.ReasoningPath).Count);
        Assert.Equal(12, updated.Paths.Count);
        Assert.Equal(built.Version + 1, updated.Version);
        Assert.Equal(built.BuildUsage.Calls + 4, updated.BuildUsage.Calls);
        Assert.Equal(built.Paths.Select(p => p.Reasoning), updated.Paths.Take(10).Select(p => p.Reasoning));

        // Statistics must equal a recount over the whole history with the same features and factors.
        var recount = await new StatisticsBuilder().ComputeStatisticsAsync(
            TestPipelines.Rating, [.. updated.Factors], [.. updated.Paths.Select(p => new ItemFeatures(p.Item, p.Features))]);
        Assert.Equal(recount.Count, updated.Statistics.Count);
        for (int i = 0; i < recount.Count; i++)
        {
            Assert.Equal(recount[i].Factor.Name, updated.Statistics[i].Factor.Name);
            Assert.Equal(recount[i].Coverage, updated.Statistics[i].Coverage);
            Assert.Equal(recount[i].Propensity, updated.Statistics[i].Propensity);
            Assert.Equal(recount[i].MeanRating, updated.Statistics[i].MeanRating);
        }

        // And the new items are retrievable.
        RpmResponse response = await pipeline.RespondAsync(updated, "movie: Dune (2021). Genres: Adventure, Sci-Fi.");
        Assert.Contains(response.Examples, e => e.Path.Item.Id == "h10");
    }

    [Fact]
    public async Task Factors_are_rebuilt_when_too_many_new_features_fit_none()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.FactorRebuildThreshold = 0.3);
        UserModel before = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        chat.Reset();

        // Documentaries: the fake files them under "Seriousness", a factor this user does not have yet, so half
        // of the new features (genre; the era fits) are unassigned.
        HistoryItem[] added =
        [
            new("d1", "Hoop Dreams (1994). Genres: Documentary.", "4.0"),
            new("d2", "Shoah (1985). Genres: Documentary.", "4.0"),
        ];
        UserModel updated = await pipeline.AddHistoryAsync("u1", added);

        Assert.Single(chat.For(RpmStage.FactorConstruction));
        // After the rebuild every documentary feature belongs to a factor, and that factor's statistics count both items.
        var genreFactors = updated.Paths.Where(p => p.Item.Id.StartsWith('d')).Select(p => p.Features.Single(f => f.Name == "Documentary genre").Factor).Distinct().ToList();
        string factor = Assert.Single(genreFactors)!;
        Assert.True(updated.Statistics.Single(s => s.Factor.Name == factor).Coverage >= 2);
        Assert.Equal(6, updated.Paths.Count);
        Assert.Equal(0, updated.UnassignedFeatureCount);

        // No stored path cites a factor set that is gone: all six were written again against the new factors (the
        // fake's reasoning names the factor of the item's first feature), and the old items kept their embeddings.
        Assert.Equal(6, chat.For(RpmStage.ReasoningPath).Count);
        HashSet<string> current = [.. updated.Factors.Select(f => f.Name), "unassigned"];
        Assert.All(updated.Paths, p => Assert.Contains(System.Text.RegularExpressions.Regex.Match(p.Reasoning, @"factor (.+?) \(").Groups[1].Value, current));
        Assert.All(before.Paths, old => Assert.True(old.Embedding.Span.SequenceEqual(updated.Paths.Single(p => p.Item.Id == old.Item.Id).Embedding.Span)));
    }

    [Fact]
    public async Task Adding_to_a_missing_model_or_an_existing_id_is_refused()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.AddHistoryAsync("nobody", TestPipelines.MovieHistory(1)));
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(2));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => pipeline.AddHistoryAsync("u1", TestPipelines.MovieHistory(3)));
        Assert.Contains("'h0' is already in the user model", ex.Message);
    }

    [Fact]
    public async Task A_concurrent_writer_is_detected_and_nothing_is_lost()
    {
        var chat = new FakeChatClient();
        var store = new InMemoryUserModelStore();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, store: store);
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        // While the update's first reasoning call is in flight, another writer saves the model once.
        int saved = 0;
        chat.Gate = async (r, ct) =>
        {
            if (r.Stage == RpmStage.ReasoningPath && Interlocked.Exchange(ref saved, 1) == 0)
            {
                UserModel current = (await store.GetAsync("u1", ct))!;
                await store.SaveAsync(current, current.Version, ct);
            }
        };

        var ex = await Assert.ThrowsAsync<UserModelConcurrencyException>(() => pipeline.AddHistoryAsync("u1", [new HistoryItem("n1", "Heat (1995). Genres: Action, Crime.", "4.0")]));
        Assert.Equal(1, ex.ExpectedVersion);
        Assert.Equal(2, ex.ActualVersion);
        Assert.Equal(3, (await store.GetAsync("u1"))!.Paths.Count);

        chat.Gate = null;
        UserModel retried = await pipeline.AddHistoryAsync("u1", [new HistoryItem("n1", "Heat (1995). Genres: Action, Crime.", "4.0")]);
        Assert.Equal(4, retried.Paths.Count);
    }
}
