using Rpm.Tests.Fakes;

namespace Rpm.Tests.Pipeline;

[Collection(MiniLmCollection.Name)]
public sealed class BuildTests(MiniLmFixture miniLm)
{
    [Fact]
    public async Task A_build_of_N_items_costs_2N_plus_1_calls_and_runs_every_stage()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        List<HistoryItem> history = TestPipelines.MovieHistory(8);

        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, history);

        Assert.Equal(2 * 8 + 1, chat.CallCount);
        Assert.Equal(8, chat.For(RpmStage.FeatureExtraction).Count);
        Assert.Single(chat.For(RpmStage.FactorConstruction));
        Assert.Equal(8, chat.For(RpmStage.ReasoningPath).Count);
        Assert.Equal(new ModelUsage(17, 1700, 340), model.BuildUsage);

        Assert.Equal("u1", model.UserId);
        Assert.Equal(8, model.Paths.Count);
        Assert.Equal(history.Select(h => h.Id), model.Paths.Select(p => p.Item.Id));
        Assert.All(model.Paths, p => Assert.Equal(384, p.Embedding.Length));
        Assert.All(model.Paths, p => Assert.All(p.Features, f => Assert.Contains(f.Factor, model.Factors.Select(x => x.Name))));
        Assert.Equal("fake-model", model.ChatModelId);
        Assert.Equal("all-MiniLM-L6-v2", model.EmbeddingModelId);
        Assert.Equal(384, model.EmbeddingDimensions);
        Assert.Equal(1, model.Version);
        Assert.Same(model, await pipeline.GetUserModelAsync("u1"));

        // Statistics reflect the history: every sci-fi movie was rated 4.5, every other 1.5.
        FactorStatistics imagination = model.Statistics.Single(s => s.Factor.Name == "Imagination");
        Assert.Equal(history.Count(h => h.Input.Contains("Sci-Fi") || h.Input.Contains("Horror")), imagination.Coverage);
        Assert.Equal(1.0, imagination.Propensity["4.5"]);
    }

    [Fact]
    public async Task The_reasoning_prompt_holds_the_known_answer_the_item_features_and_the_factor_statistics()
    {
        var chat = new FakeChatClient();
        UserModel model = await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));

        foreach (FakeRequest request in chat.For(RpmStage.ReasoningPath))
        {
            string id = request.ItemId!;
            ReasoningPath path = model.Paths.Single(p => p.Item.Id == id);
            Assert.Equal(path.Item.Output, request.Data["userAnswer"]!.GetValue<string>());
            Assert.Equal(path.Features.Select(f => f.Name), request.Data["features"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
            var factors = request.Data["factors"]!.AsArray();
            Assert.Equal(model.Statistics.Count, factors.Count);
            foreach (FactorStatistics s in model.Statistics)
            {
                var node = factors.Single(f => f!["factor"]!.GetValue<string>() == s.Factor.Name)!;
                Assert.Equal(s.Coverage, node["coverage"]!.GetValue<int>());
                foreach (var (label, value) in s.Propensity.Where(p => p.Value > 0))
                {
                    Assert.Equal(Math.Round(value, 3), node["propensity"]![label]!.GetValue<double>());
                }
            }

            Assert.Contains(path.Item.Output, path.Reasoning);
        }
    }

    [Fact]
    public async Task History_feature_extraction_does_not_see_the_answer_of_a_labelled_task()
    {
        var chat = new FakeChatClient();
        await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        Assert.All(chat.For(RpmStage.FeatureExtraction), r => Assert.False(r.Data.ContainsKey("userOutput")));
    }

    [Fact]
    public async Task Generation_tasks_extract_features_from_the_input_alone_then_judge_influence_against_the_users_text()
    {
        var chat = new FakeChatClient();
        RpmTask task = RpmTask.Generation("titles", "Write the title of a paper from its abstract.");
        HistoryItem[] history =
        [
            new("p1", "We study graph neural networks for molecules.", "Graph networks for molecular property prediction"),
            new("p2", "A survey of retrieval augmented generation.", "Retrieval augmented generation: a survey"),
        ];

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", task, history);

        // Stage 1 reads the input alone, as stage 5 reads a query: history keys and query keys come from one distribution.
        Assert.All(chat.For(RpmStage.FeatureExtraction), r => Assert.DoesNotContain("Graph networks for molecular", r.AllText, StringComparison.Ordinal));
        Assert.All(chat.For(RpmStage.FeatureExtraction), r => Assert.DoesNotContain("influential", r.AllText, StringComparison.Ordinal));

        // The judgment is its own call, batched (10 items a call by default), with the user's text beside each item's features.
        FakeRequest judgment = Assert.Single(chat.For(RpmStage.InfluenceJudgment));
        Assert.Equal(["p1", "p2"], judgment.Data["items"]!.AsArray().Select(i => i!["itemId"]!.GetValue<string>()));
        Assert.Contains("Graph networks for molecular property prediction", judgment.DataText, StringComparison.Ordinal);
        Assert.Equal(2 * 2 + 1 + 1, chat.CallCount);
        Assert.Equal(2 * 2 + 1 + 1, model.BuildUsage.Calls);
        Assert.All(model.Paths.SelectMany(p => p.Features), f => Assert.NotNull(f.Influential));
        int influential = model.Paths.SelectMany(p => p.Features).Count(f => f.Influential == true);
        Assert.True(influential > 0);
        Assert.Equal(influential, model.Statistics.Sum(s => s.Influence));

        // One item per judgment call when asked.
        chat.Reset();
        await TestPipelines.Create(chat, miniLm.Generator, o => o.InfluenceJudgmentBatchSize = 1).BuildUserModelAsync("u2", task, history);
        Assert.Equal(2, chat.For(RpmStage.InfluenceJudgment).Count);
    }

    [Fact]
    public async Task Independent_calls_run_concurrently_up_to_the_limit()
    {
        // Hold every feature call until three are in flight: proves they overlap, and never more than the limit.
        var threeInFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0;
        var chat = new FakeChatClient
        {
            Gate = async (r, ct) =>
            {
                if (r.Stage == RpmStage.FeatureExtraction && Interlocked.Increment(ref started) == 3)
                {
                    threeInFlight.TrySetResult();
                }

                if (r.Stage == RpmStage.FeatureExtraction)
                {
                    await threeInFlight.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
                }
            },
        };

        await TestPipelines.Create(chat, miniLm.Generator, o => o.MaxConcurrency = 3).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(9));

        Assert.Equal(3, chat.MaxInFlight);
    }

    [Fact]
    public async Task A_rebuild_replaces_the_saved_model_and_bumps_its_version()
    {
        var chat = new FakeChatClient();
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator);
        await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(3));
        UserModel second = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));
        Assert.Equal(2, second.Version);
        Assert.Equal(4, (await pipeline.GetUserModelAsync("u1"))!.Paths.Count);
    }
}
