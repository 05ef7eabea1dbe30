using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Rpm.Endpoints.Tests.Server;
using Rpm.Evaluation;
using Rpm.Tests.Pipeline;

namespace Rpm.Endpoints.Tests.Catalog;

/// <summary>No model judgment aborts a paid build, no sibling of a failed call is lost or paid twice, and answers that arrived survive a cancellation.</summary>
[Collection(EndpointCollection.Name)]
public sealed class BuildRobustnessTests(MiniLm miniLm)
{
    [Fact]
    public async Task A_factor_answer_that_renames_drops_and_invents_feature_names_still_builds_with_no_extra_call()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.FactorConstruction ? new Reply
        {
            Content = """
                {"factors": [
                  {"name": "Imagination", "description": "Speculative and frightening worlds.", "features": ["Sci Fi", "Horror genre", "Alien invasion"]},
                  {"name": "Lightness", "description": "Comedy and romance.", "features": ["Comedy genre", "Romance genre"]},
                  {"name": "Excitement", "description": "Action and suspense.", "features": ["Action genre"]}
                ]}
                """,
        } : null;

        UserModel model = await harness.BuildAsync(harness.Pipeline());

        Assert.Equal(9, harness.Server.PaidCalls); // 2N + 1: nothing was repaired or paid twice
        Assert.Equal(["Imagination", "Lightness", "Excitement"], model.Factors.Select(f => f.Name));
        Feature Of(string name) => model.Paths.SelectMany(p => p.Features).First(f => f.Name == name);
        Assert.Equal("Imagination", Of("Sci-Fi genre").Factor);     // renamed "Sci Fi", matched back
        Assert.Equal("Excitement", Of("Thriller genre").Factor);    // dropped; its stage-1 category names a factor
        Assert.Equal("Imagination", Of("1970s release").Factor);    // dropped; shares Alien with Horror and Sci-Fi
        Assert.Equal(2, model.Diagnostics.UnknownFeatureNames);     // "Sci Fi" and the invented "Alien invasion"
        Assert.Equal(1, model.Diagnostics.RenamedFeatures);
        Assert.Equal(4, model.Diagnostics.FeaturesAssignedByRule);
        Assert.Equal(0, model.Diagnostics.FeaturesLeftUnassigned);
        Assert.Equal(0, model.Diagnostics.OutputRepairs);
    }

    [Fact]
    public async Task A_factor_answer_that_stays_unusable_after_the_repair_builds_factors_from_the_suggested_categories()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.FactorConstruction ? new Reply { Content = "This user clearly loves science fiction and dislikes romance." } : null;

        UserModel model = await harness.BuildAsync(harness.Pipeline());

        Assert.Equal(10, harness.Server.PaidCalls); // 2N + 1 and the one repair turn
        Assert.True(model.Diagnostics.FactorsFromSuggestedCategories);
        Assert.Contains("no JSON object", model.Diagnostics.FactorFallbackReason, StringComparison.Ordinal);
        Assert.Contains("Imagination", model.Factors.Select(f => f.Name));
        Assert.Contains("Lightness", model.Factors.Select(f => f.Name));
        Assert.All(model.Paths, p => Assert.Contains(p.Features, f => f.Factor is not null));
        Assert.Equal(10, model.BuildUsage.Calls);
    }

    [Fact]
    public async Task A_refused_factor_answer_does_not_abort_the_build()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.FactorConstruction ? new Reply { NullContent = true, Refusal = "I can't profile a person." } : null;

        UserModel model = await harness.BuildAsync(harness.Pipeline());

        Assert.Equal(9, harness.Server.PaidCalls);
        Assert.True(model.Diagnostics.FactorsFromSuggestedCategories);
        Assert.Equal("the model refused: I can't profile a person.", model.Diagnostics.FactorFallbackReason);
    }

    [Fact]
    public async Task A_history_item_the_model_refuses_is_left_out_and_counted_and_the_build_completes()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.FeatureExtraction && r.Request.ItemId == "h2" ? new Reply { NullContent = true, Refusal = "I can't analyse this content." } : null;

        UserModel model = await harness.BuildAsync(harness.Pipeline());

        Assert.Equal(["h0", "h1", "h3"], model.Paths.Select(p => p.Item.Id));
        Assert.Equal(1, model.Diagnostics.ItemsExcluded);
        Assert.Equal("item 'h2' at FeatureExtraction: the model refused: I can't analyse this content.", model.Diagnostics.ExclusionReason);
        Assert.Equal(4 + 1 + 3, harness.Server.PaidCalls); // features of 4 (one refused, not retried), factors, 3 reasoning paths
        Assert.All(model.Statistics, s => Assert.True(s.Coverage <= 3));
    }

    [Fact]
    public async Task A_reasoning_path_stopped_by_the_content_filter_leaves_that_item_out_of_the_memory()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.ReasoningPath && r.Request.ItemId == "h1" ? new Reply { Content = string.Empty, FinishReason = "content_filter" } : null;

        UserModel model = await harness.BuildAsync(harness.Pipeline());

        Assert.Equal(["h0", "h2", "h3"], model.Paths.Select(p => p.Item.Id));
        Assert.Equal(1, model.Diagnostics.ItemsExcluded);
        Assert.StartsWith("item 'h1' at ReasoningPath: the content filter stopped it", model.Diagnostics.ExclusionReason, StringComparison.Ordinal);
        Assert.Equal(9, harness.Server.PaidCalls);
    }

    [Fact]
    public async Task A_missing_influence_judgment_is_repaired_and_never_read_as_false()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.InfluenceJudgment && !r.IsRepair ? new Reply { Content = WithoutInfluence(r.GoodAnswer, "g1") } : null;

        UserModel model = await harness.Pipeline().BuildUserModelAsync("u", Titles, TitleHistory());

        Assert.Equal(2 * 3 + 1 + 1 + 1, harness.Server.PaidCalls);   // 2N + 1, one judgment call for the three items, one repair
        Assert.Contains("needs \"influential\": true or false", harness.Server.Requests.Single(r => r.IsRepair).Request.Messages[^1].Text, StringComparison.Ordinal);
        Assert.All(model.Paths.SelectMany(p => p.Features), f => Assert.NotNull(f.Influential));
        Assert.Equal(1, model.Diagnostics.OutputRepairs);
    }

    [Fact]
    public async Task The_influence_judgment_asks_strictly_for_every_listed_feature_with_both_fields()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);

        UserModel model = await harness.Pipeline().BuildUserModelAsync("u", Titles, TitleHistory());

        ServedRequest judgment = harness.Server.Requests.Single(r => r.Stage == RpmStage.InfluenceJudgment);
        JsonNode schema = judgment.Body["response_format"]!["json_schema"]!["schema"]!;
        JsonNode item = schema["properties"]!["items"]!["items"]!;
        Assert.Equal(["g1", "g2", "g3"], item["properties"]!["itemId"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        JsonNode entry = item["properties"]!["judgments"]!["items"]!;
        Assert.Equal(
            model.Paths.SelectMany(p => p.Features).Select(f => f.Name).Distinct().Order(StringComparer.Ordinal),
            entry["properties"]!["feature"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal("boolean", entry["properties"]!["influential"]!["type"]!.GetValue<string>());
        Assert.Equal(["positive", "neutral", "negative", null], entry["properties"]!["polarity"]!["enum"]!.AsArray().Select(v => v?.GetValue<string>()));
        Assert.Contains("influential", entry["required"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Contains("polarity", entry["required"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.All(harness.Server.Requests.Where(r => r.Stage == RpmStage.FeatureExtraction), r => Assert.DoesNotContain("Robust graph networks", r.Request.AllText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_influence_judgment_missing_after_the_repair_stays_unknown_and_is_counted()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        harness.Server.Behave = r => r.Stage == RpmStage.InfluenceJudgment ? new Reply { Content = WithoutInfluence(r.GoodAnswer, "g1") } : null;

        UserModel model = await harness.Pipeline().BuildUserModelAsync("u", Titles, TitleHistory());

        ReasoningPath g1 = model.Paths.Single(p => p.Item.Id == "g1");
        Assert.All(g1.Features, f => Assert.Null(f.Influential));
        Assert.Equal(g1.Features.Count, model.Diagnostics.MissingJudgments);
    }

    [Fact]
    public async Task A_failed_call_does_not_cancel_its_siblings_in_flight_and_a_rerun_pays_only_for_what_failed()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        var checkpoints = new InMemoryBuildCheckpointStore();
        RpmPipeline pipeline = harness.Pipeline(checkpoints: checkpoints, client: harness.Endpoint);
        harness.Server.Behave = r =>
        {
            if (r.Stage != RpmStage.FeatureExtraction)
            {
                return null;
            }

            if (r.Request.ItemId != "h0")
            {
                return new Reply { Delay = TimeSpan.FromMilliseconds(500) };
            }

            // Fail only once all four calls are in flight, so that the failure meets three siblings mid-call.
            SpinWait.SpinUntil(() => harness.Server.Requests.Count(q => q.Stage == RpmStage.FeatureExtraction) >= 4, TimeSpan.FromSeconds(20));
            return Reply.Error(400, """{"error":{"message":"Invalid prompt: flagged by moderation","code":"invalid_prompt"}}""", "application/json");
        };

        var ex = await Assert.ThrowsAsync<RpmStageException>(() => harness.BuildAsync(pipeline));

        Assert.Equal("h0", ex.ItemId);
        Assert.Contains("Invalid prompt: flagged by moderation", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, harness.Server.PaidCalls); // the three siblings in flight finished and were kept

        harness.Server.Behave = null;
        int before = harness.Server.Requests.Count;
        await harness.BuildAsync(pipeline);
        var rerun = harness.Server.Requests.Skip(before).ToList();
        Assert.Equal(["h0"], rerun.Where(r => r.Stage == RpmStage.FeatureExtraction).Select(r => r.Request.ItemId));
        Assert.Equal(1 + 1 + 4, rerun.Count);
    }

    [Fact]
    public async Task An_answer_that_arrived_just_before_a_cancellation_is_cached_and_not_paid_again()
    {
        await using Harness harness = await Harness.StartAsync(miniLm);
        UserModel model = await harness.BuildAsync(harness.Pipeline());
        using var cancellation = new CancellationTokenSource();
        using IChatClient cancelling = new SqliteCachingChatClient(new CancelAfterAnswer(harness.Endpoint, cancellation), harness.Cache, RpmMethod.Scope, harness.Server.Model.ModelId);
        RpmPipeline pipeline = harness.Pipeline(client: cancelling);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.", cancellation.Token));
        int paid = harness.Server.PaidCalls;

        RpmResponse response = await harness.Pipeline().RespondAsync(model, "movie: Aliens (1986). Genres: Action, Sci-Fi.");

        Assert.Equal(paid + 1, harness.Server.PaidCalls); // the query's features came from the cache; only the answer was asked
        Assert.NotEmpty(response.QueryFeatures);
    }

    private static readonly RpmTask Titles = RpmTask.Generation("titles", "Write the title the user gives a paper, from its abstract.");

    private static List<HistoryItem> TitleHistory() =>
    [
        new("g1", "We study graph neural networks for molecules and their robustness.", "Robust graph networks for molecules"),
        new("g2", "A survey of reinforcement learning for robotics.", "Reinforcement learning in robotics: a survey"),
        new("g3", "Transformers for long documents with sparse attention.", "Sparse attention for long documents"),
    ];

    private static string WithoutInfluence(string answer, string itemId)
    {
        JsonObject json = JsonNode.Parse(answer)!.AsObject();
        foreach (JsonNode? judgment in json["items"]!.AsArray().Single(i => i!["itemId"]!.GetValue<string>() == itemId)!["judgments"]!.AsArray())
        {
            judgment!.AsObject().Remove("influential");
        }

        return json.ToJsonString();
    }

    /// <summary>Cancels the caller right after an answer arrived from the endpoint, as a Ctrl+C at that moment would.</summary>
    private sealed class CancelAfterAnswer(IChatClient inner, CancellationTokenSource cancellation) : DelegatingChatClient(inner)
    {
        public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken);
            await cancellation.CancelAsync();
            return response;
        }
    }
}
