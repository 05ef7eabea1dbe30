using System.Text.Json.Nodes;
using Rpm.Tests.Fakes;
using Rpm.Tests.Pipeline;
using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Generation;

/// <summary>
/// The grounding check of stage 7 (our addition to the paper), the same as stage 4's: the rationale's citations and the
/// numbers of its text against the statistics the call showed, factor-like names against the user's factors; one
/// repair turn, then kept and flagged on the response.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class RationaleGroundingTests(MiniLmFixture miniLm)
{
    private const string Query = "What is the score of the following movie? movie: Aliens (1986). Genres: Action, Adventure, Horror, Sci-Fi.";
    private static readonly RpmTask Rating = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));
    private static readonly TextBudget Budget = new(new RpmOptions());

    // Shown: Pacing coverage 3, propensity 4: 0.667, 2: 0.333, meanAnswer 3.333; the example's similarity 0.912.
    private static GenerationContract Contract()
    {
        var path = new ReasoningPath(new HistoryItem("h1", "An old film", "4"), [new Feature("Slow burn", "a quiet start", "Pacing")], "The user likes slow films.");
        var statistics = new FactorStatistics(new Factor("Pacing", "How fast."), 3, propensity: new Dictionary<string, double> { ["4"] = 2.0 / 3, ["2"] = 1.0 / 3 }, meanRating: 10.0 / 3);
        var model = new UserModel("u", Rating, [statistics], [path]);
        return new GenerationContract(model, new RpmQuery("A new film", "q1"), [new Feature("Quiet", "little dialogue", "Pacing")], [new RetrievedExample(path, 0.91234f)], Budget);
    }

    private static string Reply(string rationale, params (string Factor, string Statistic, string? Answer, double Value)[] citations) =>
        new JsonObject
        {
            ["rationale"] = rationale,
            ["citations"] = new JsonArray([.. citations.Select(c => (JsonNode)new JsonObject { ["factor"] = c.Factor, ["statistic"] = c.Statistic, ["answer"] = c.Answer, ["value"] = c.Value })]),
            ["answer"] = "4",
        }.ToJsonString();

    [Fact]
    public void The_schema_constrains_a_citation_to_the_users_factors_the_statistics_shown_and_the_answers_shown()
    {
        JsonObject schema = Contracts.Schema(Contract());

        Assert.Equal("Pacing", Contracts.Enum(schema, "citations", "[]", "factor"));
        Assert.Equal("coverage,propensity,meanAnswer", Contracts.Enum(schema, "citations", "[]", "statistic"));
        Assert.Equal("4,2,null", Contracts.Enum(schema, "citations", "[]", "answer"));
        Assert.Equal("1,2,3,4,5", Contracts.Enum(schema, "answer"));
        Assert.Contains("citations", schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Contains("List every statistic the rationale cites in \"citations\"", Contracts.Instructions(Contract()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_grounded_rationale_passes_with_its_values_as_shown_rounded_or_as_percents_and_the_examples_similarity()
    {
        string reply = Reply(
            "Pacing covers 3 items and 67% of them were rated 4; the closest example (similarity 0.912, or 91%) shares its Pacing.",
            ("Pacing", "coverage", null, 3), ("Pacing", "propensity", "4", 0.667), ("Pacing", "meanAnswer", null, 3.3));

        OutputValidation<(string Answer, string Rationale)> result = Contracts.Validate(Contract(), reply);

        Assert.True(result.IsValid, result.Error);
        Assert.Equal("4", result.Value.Answer);
        Assert.True(result.Diagnostics.IsClean);
    }

    [Fact]
    public void A_wrong_value_is_named_with_what_was_shown_for_the_repair_turn()
    {
        string error = Contracts.Validate(Contract(), Reply("Pacing leads to 4.", ("Pacing", "coverage", null, 5), ("Pacing", "propensity", "4", 0.5))).Error!;

        Assert.StartsWith("The rationale is not grounded in the statistics shown: ", error, StringComparison.Ordinal);
        Assert.Contains("citation 1 (coverage of 'Pacing') has the value 5, but the statistics show 3", error, StringComparison.Ordinal);
        Assert.Contains("citation 2 (propensity of 'Pacing' for the answer '4') has the value 0.5, but the statistics show 0.667", error, StringComparison.Ordinal);
        Assert.EndsWith("name only the user's factors (Pacing).", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("The Mood factor outweighs Pacing here.", "the text calls 'Mood' a factor, but it is not one of the user's factors")]
    [InlineData("Pacing was rated 4 in 80% of its items.", "the text gives 80%, which matches no share shown")]
    public void An_invented_factor_or_a_number_not_shown_in_the_text_is_flagged(string rationale, string problem)
    {
        Assert.Contains(problem, Contracts.Validate(Contract(), Reply(rationale, ("Pacing", "coverage", null, 3))).Error!, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_answer_is_repaired_before_the_grounding_is_judged()
    {
        string reply = Reply("The Mood factor decides.").Replace("\"answer\":\"4\"", "\"answer\":\"9\"", StringComparison.Ordinal);

        Assert.StartsWith("\"answer\" is not valid: ", Contracts.Validate(Contract(), reply).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void On_the_last_attempt_an_ungrounded_rationale_is_kept_and_counted()
    {
        OutputValidation<(string Answer, string Rationale)> result = Contracts.Validate(Contract(), Reply("Pacing leads to 4.", ("Pacing", "coverage", null, 9)), Contracts.LastAttempt);

        Assert.Equal(("4", "Pacing leads to 4."), result.Value);
        Assert.Equal(new BuildDiagnostics { UngroundedPaths = 1 }, result.Diagnostics);
    }

    [Fact]
    public async Task A_grounded_rationale_needs_no_repair()
    {
        var (pipeline, model, chat) = await BuildAsync(new FakeChatClient());

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        FakeRequest generation = chat.For(RpmStage.Generation).Single();
        Assert.Equal(1, generation.Attempt);
        Assert.Contains("(coverage ", response.Rationale, StringComparison.Ordinal);
        Assert.True(response.IsGrounded);
    }

    [Fact]
    public async Task A_wrong_value_gets_one_repair_turn_that_names_the_citation_and_the_value_shown()
    {
        var (pipeline, model, chat) = await BuildAsync(new FakeChatClient { RationaleMistake = ReasoningMistake.WrongValue });

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        IReadOnlyList<FakeRequest> generation = chat.For(RpmStage.Generation);
        Assert.Equal(2, generation.Count);
        string hint = generation[1].Messages[^1].Text;
        JsonObject shown = generation[1].Data["factors"]!.AsArray().Select(f => f!.AsObject()).Single(f => hint.Contains($"(coverage of '{f["factor"]}')", StringComparison.Ordinal));
        int coverage = shown["coverage"]!.GetValue<int>();
        Assert.Contains("The rationale is not grounded in the statistics shown: ", hint, StringComparison.Ordinal);
        Assert.Contains($"citation 1 (coverage of '{shown["factor"]}') has the value {coverage + 7}, but the statistics show {coverage}", hint, StringComparison.Ordinal);
        Assert.True(response.IsGrounded);
        Assert.Contains($"(coverage {coverage})", response.Rationale, StringComparison.Ordinal);
        Assert.Equal(3, response.Usage.Calls);
    }

    [Fact]
    public async Task A_rationale_still_ungrounded_after_the_repair_is_kept_and_flagged()
    {
        var (pipeline, model, chat) = await BuildAsync(new FakeChatClient { RationaleMistake = ReasoningMistake.UnknownFactor, MistakeAfterRepair = true });

        RpmResponse response = await pipeline.RespondAsync(model, Query);

        Assert.Equal(2, chat.For(RpmStage.Generation).Count);
        Assert.Contains("the text calls 'Nostalgia' a factor", chat.For(RpmStage.Generation)[1].Messages[^1].Text, StringComparison.Ordinal);
        Assert.False(response.IsGrounded);
        Assert.False(response.IsFallback);
        Assert.Contains("Nostalgia factor", response.Rationale, StringComparison.Ordinal);
        Assert.Equal("4.5", response.Answer);
    }

    // The build is grounded (the mistakes are the rationale's only); the chat's requests start after it.
    private async Task<(RpmPipeline Pipeline, UserModel Model, FakeChatClient Chat)> BuildAsync(FakeChatClient chat)
    {
        RpmPipeline pipeline = TestPipelines.Create(chat, miniLm.Generator, o => o.RetrievalCount = 3);
        UserModel model = await pipeline.BuildUserModelAsync("u1", TestPipelines.Rating, TestPipelines.MovieHistory(12));
        Assert.Equal(0, model.Diagnostics.UngroundedPaths);
        chat.Reset();
        return (pipeline, model, chat);
    }
}
