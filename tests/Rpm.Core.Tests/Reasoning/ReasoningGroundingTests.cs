using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;
using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Reasoning;

/// <summary>
/// The grounding check of stage 4 (our addition to the paper): citations and the numbers of the text against the
/// statistics the call showed, factor-like names against the user's factors; one repair turn, then kept and counted.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class ReasoningGroundingTests(MiniLmFixture miniLm)
{
    private static readonly RpmTask Rating = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));
    private static readonly TextBudget Budget = new(new RpmOptions());

    private static readonly IReadOnlyList<FactorStatistics> Statistics =
    [
        new(new Factor("Pacing", "How fast the story moves."), 3, propensity: new Dictionary<string, double> { ["4"] = 2.0 / 3, ["2"] = 1.0 / 3 }, meanRating: 10.0 / 3),
        new(new Factor("Tone", "How dark the story is."), 2, propensity: new Dictionary<string, double> { ["5"] = 0.425, ["1"] = 0.575 }, meanRating: 2.7),
    ];

    private static ReasoningPathContract Contract(RpmTask? task = null, IReadOnlyList<FactorStatistics>? statistics = null) =>
        new(new ReasoningPathRequest(task ?? Rating, new HistoryItem("a", "Input of a", "4"), [new Feature("Slow burn", "a quiet start", "Pacing")], statistics ?? Statistics), Budget);

    private static string Reply(string reasoning, params (string Factor, string Statistic, string? Answer, double Value)[] citations) =>
        new JsonObject
        {
            ["reasoning"] = reasoning,
            ["citations"] = new JsonArray([.. citations.Select(c => (JsonNode)new JsonObject { ["factor"] = c.Factor, ["statistic"] = c.Statistic, ["answer"] = c.Answer, ["value"] = c.Value })]),
        }.ToJsonString();

    [Fact]
    public void The_schema_constrains_a_citation_to_the_users_factors_the_statistics_shown_and_the_answers_shown()
    {
        JsonObject schema = Contracts.Schema(Contract());

        Assert.Equal("Pacing,Tone", Contracts.Enum(schema, "citations", "[]", "factor"));
        Assert.Equal("coverage,propensity,meanAnswer", Contracts.Enum(schema, "citations", "[]", "statistic"));
        Assert.Equal("4,2,1,5,null", Contracts.Enum(schema, "citations", "[]", "answer"));
        Assert.Contains("citations", schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(["answer", "factor", "statistic", "value"], schema["properties"]!["citations"]!["items"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Contains("\"citations\"", Contracts.Instructions(Contract()), StringComparison.Ordinal);

        var generation = RpmTask.Generation("titles", "Write a title.");
        IReadOnlyList<FactorStatistics> judged = [new(new Factor("Brevity", "Short titles."), 2, influence: 3, positiveShare: 2.0 / 3, neutralShare: 1.0 / 3, negativeShare: 0)];
        JsonObject generationSchema = Contracts.Schema(Contract(generation, judged));
        Assert.Equal("coverage,influence,polarity.positive,polarity.neutral,polarity.negative", Contracts.Enum(generationSchema, "citations", "[]", "statistic"));
        Assert.False(generationSchema["properties"]!["citations"]!["items"]!["properties"]!.AsObject().ContainsKey("answer"));

        JsonObject batch = Contracts.Schema(new ReasoningBatchContract(
            [new(Rating, new HistoryItem("a", "A", "4"), [], Statistics), new(Rating, new HistoryItem("b", "B", "2"), [], Statistics)], Budget));
        Assert.Equal("Pacing,Tone", Contracts.Enum(batch, "items", "[]", "citations", "[]", "factor"));
        Assert.Contains("citations", batch["properties"]!["items"]!["items"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()));
    }

    [Fact]
    public void Values_as_shown_rounded_or_as_percents_are_grounded()
    {
        // Shown: Pacing coverage 3, propensity 4: 0.667, 2: 0.333, meanAnswer 3.333; Tone propensity 5: 0.425, 1: 0.575.
        string reply = Reply(
            "Pacing touches 3 items and 67% of them were rated 4 (a share of 0.67, 0.333 for 2); Tone's propensity for 5 is 42.5 %, or 0.43, and its share for 1 is .575.",
            ("Pacing", "coverage", null, 3), ("Pacing", "propensity", "4", 0.667), ("Pacing", "propensity", "2", 33), ("Pacing", "propensity", "2", 33.33),
            ("Pacing", "meanAnswer", null, 3.3), ("Tone", "propensity", "5", 0.42), ("Tone", "propensity", "5", 43), ("Tone", "propensity", "1", 0.6),
            ("tone", "propensity", "3", 0));

        OutputValidation<string> result = Contracts.Validate(Contract(), reply);

        Assert.True(result.IsValid, result.Error);
        Assert.True(result.Diagnostics.IsClean);
    }

    [Fact]
    public void A_wrong_value_a_statistic_not_shown_and_a_factor_not_the_users_are_each_named_with_what_was_shown()
    {
        string reply = Reply(
            "Pacing leads to 4.",
            ("Pacing", "coverage", null, 4), ("Pacing", "propensity", "4", 0.5), ("Pacing", "propensity", "3", 0.2), ("Pacing", "influence", null, 2),
            ("Mood", "coverage", null, 1), ("Pacing", "meanAnswer", null, 3));

        string error = Contracts.Validate(Contract(), reply).Error!;

        Assert.StartsWith("The reasoning is not grounded in the statistics shown: ", error, StringComparison.Ordinal);
        Assert.Contains("citation 1 (coverage of 'Pacing') has the value 4, but the statistics show 3", error, StringComparison.Ordinal);
        Assert.Contains("citation 2 (propensity of 'Pacing' for the answer '4') has the value 0.5, but the statistics show 0.667", error, StringComparison.Ordinal);
        Assert.Contains("citation 3 (propensity of 'Pacing' for the answer '3') has the value 0.2, but the statistics show no such share (shown for 'Pacing': '4' 0.667, '2' 0.333)", error, StringComparison.Ordinal);
        Assert.Contains("citation 4 names the statistic 'influence', which is not shown for 'Pacing' (shown: coverage, propensity, meanAnswer)", error, StringComparison.Ordinal);
        Assert.Contains("citation 5 names the factor 'Mood', which is not one of the user's factors", error, StringComparison.Ordinal);

        // A mean rounded to a whole number is not the value shown (3.333).
        Assert.Contains("citation 6 (meanAnswer of 'Pacing') has the value 3, but the statistics show 3.333", error, StringComparison.Ordinal);
        Assert.EndsWith("name only the user's factors (Pacing, Tone).", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("The Mood factor outweighs Pacing here.", "Mood")]
    [InlineData("Its 'Nostalgia' factor decides.", "Nostalgia")]
    [InlineData("Weighed by the factor \"Dark Themes\", the answer is 4.", "Dark Themes")]
    [InlineData("Through the user's factor Suspense the answer is 4.", "Suspense")]
    public void A_factor_like_name_in_the_text_that_is_not_the_users_is_flagged(string reasoning, string name)
    {
        string error = Contracts.Validate(Contract(), Reply(reasoning, ("Pacing", "coverage", null, 3))).Error!;

        Assert.Contains($"the text calls '{name}' a factor, but it is not one of the user's factors", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("The Pacing factor and the factor Tone both point to 4.")]
    [InlineData("Another factor is the user's Slow Pacing factor; one factor decides.")]
    [InlineData("The factor 'unassigned' carries no statistics.")]
    public void The_users_own_factors_and_ordinary_words_before_factor_are_not_flagged(string reasoning)
    {
        Assert.True(Contracts.Validate(Contract(), Reply(reasoning, ("Pacing", "coverage", null, 3))).IsValid);
    }

    [Theory]
    [InlineData("Pacing was rated 4 in 80% of its items.", "80%")]
    [InlineData("Pacing has a propensity of 0.8 for 4.", "0.8")]
    [InlineData("Tone's share for 5 is 0.5.", "0.5")]
    public void A_number_in_the_text_that_matches_no_statistic_shown_is_flagged(string reasoning, string number)
    {
        string error = Contracts.Validate(Contract(), Reply(reasoning, ("Pacing", "coverage", null, 3))).Error!;

        Assert.Contains($"the text gives {number}, which matches no", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_decimal_in_a_sentence_that_is_not_about_the_statistics_is_left_alone()
    {
        Assert.True(Contracts.Validate(Contract(), Reply("The film is sold with a 0.5 l bottle. Pacing leads to 4.", ("Pacing", "coverage", null, 3))).IsValid);
    }

    [Fact]
    public void On_the_last_attempt_an_ungrounded_path_is_kept_and_counted()
    {
        OutputValidation<string> result = Contracts.Validate(Contract(), Reply("Pacing leads to 4.", ("Pacing", "coverage", null, 9)), Contracts.LastAttempt);

        Assert.Equal("Pacing leads to 4.", result.Value);
        Assert.Equal(new BuildDiagnostics { UngroundedPaths = 1 }, result.Diagnostics);
    }

    [Fact]
    public void A_batch_names_every_ungrounded_item_in_one_repair_and_counts_those_still_ungrounded_last()
    {
        var batch = new ReasoningBatchContract(
            [new(Rating, new HistoryItem("a", "A", "4"), [], Statistics), new(Rating, new HistoryItem("b", "B", "2"), [], Statistics), new(Rating, new HistoryItem("c", "C", "2"), [], Statistics)], Budget);
        string reply = """
            {"items": [
              {"itemId": "a", "reasoning": "Pacing leads to 4.", "citations": [{"factor": "Pacing", "statistic": "coverage", "answer": null, "value": 5}]},
              {"itemId": "b", "reasoning": "Pacing leads to 2.", "citations": [{"factor": "Pacing", "statistic": "coverage", "answer": null, "value": 3}]},
              {"itemId": "c", "reasoning": "The Mood factor leads to 2.", "citations": []}
            ]}
            """;

        string error = Contracts.Validate(batch, reply).Error!;
        Assert.Contains("item 'a': citation 1 (coverage of 'Pacing') has the value 5, but the statistics show 3", error, StringComparison.Ordinal);
        Assert.Contains("item 'c': the text calls 'Mood' a factor", error, StringComparison.Ordinal);
        Assert.DoesNotContain("item 'b'", error, StringComparison.Ordinal);

        OutputValidation<IReadOnlyList<string>> last = Contracts.Validate(batch, reply, Contracts.LastAttempt);
        Assert.Equal(3, last.Value!.Count);
        Assert.Equal(2, last.Diagnostics.UngroundedPaths);
    }

    [Fact]
    public async Task A_build_whose_paths_are_grounded_needs_no_repair()
    {
        var chat = new FakeChatClient();

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));

        Assert.All(chat.For(RpmStage.ReasoningPath), r => Assert.Equal(1, r.Attempt));
        Assert.Equal(0, model.Diagnostics.UngroundedPaths);
        Assert.Equal(0, model.Diagnostics.OutputRepairs);
    }

    [Fact]
    public async Task A_wrong_value_gets_one_repair_turn_that_names_the_citation_and_the_value_shown()
    {
        var chat = new FakeChatClient { Mistake = ReasoningMistake.WrongValue };

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));

        IReadOnlyList<FakeRequest> reasoning = chat.For(RpmStage.ReasoningPath);
        Assert.Equal(8, reasoning.Count);
        FakeRequest repair = reasoning.First(r => r.Attempt == 2);
        string hint = repair.Messages[^1].Text;
        JsonObject shown = repair.Data["factors"]!.AsArray().Select(f => f!.AsObject()).Single(f => hint.Contains($"(coverage of '{f["factor"]}')", StringComparison.Ordinal));
        int coverage = shown["coverage"]!.GetValue<int>();
        Assert.Contains($"citation 1 (coverage of '{shown["factor"]}') has the value {coverage + 7}, but the statistics show {coverage}", hint, StringComparison.Ordinal);
        Assert.Equal(0, model.Diagnostics.UngroundedPaths);
        Assert.Equal(4, model.Diagnostics.OutputRepairs);
        Assert.Equal(4, model.Paths.Count);
    }

    [Fact]
    public async Task A_path_still_ungrounded_after_the_repair_is_kept_and_counted()
    {
        var chat = new FakeChatClient { Mistake = ReasoningMistake.UnknownFactor, MistakeAfterRepair = true };

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));

        Assert.Equal(8, chat.For(RpmStage.ReasoningPath).Count);
        Assert.Equal(4, model.Paths.Count);
        Assert.All(model.Paths, p => Assert.Contains("Nostalgia factor", p.Reasoning, StringComparison.Ordinal));
        Assert.Equal(4, model.Diagnostics.UngroundedPaths);
        Assert.Contains("4 reasoning path(s) ungrounded after the repair", model.Diagnostics.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_repair_turn_an_ungrounded_path_is_counted_at_once()
    {
        var chat = new FakeChatClient { Mistake = ReasoningMistake.WrongValue };

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator, o => o.MaxOutputRetries = 0).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(3));

        Assert.Equal(3, chat.For(RpmStage.ReasoningPath).Count);
        Assert.Equal(3, model.Diagnostics.UngroundedPaths);
    }

    [Fact]
    public async Task A_batched_build_repairs_every_ungrounded_item_in_one_turn()
    {
        var chat = new FakeChatClient { Mistake = ReasoningMistake.WrongValue, MistakeAfterRepair = true };

        UserModel model = await TestPipelines.Create(chat, miniLm.Generator, o => o.ReasoningBatchSize = 4).BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(4));

        IReadOnlyList<FakeRequest> reasoning = chat.For(RpmStage.ReasoningPath);
        Assert.Equal(2, reasoning.Count);
        string hint = reasoning[1].Messages[^1].Text;
        Assert.All(model.Paths, p => Assert.Contains($"item '{p.Item.Id}': citation 1", hint, StringComparison.Ordinal));
        Assert.Equal(4, model.Diagnostics.UngroundedPaths);
        Assert.Equal(ChatRole.Assistant, reasoning[1].Messages[^2].Role);
    }
}
