using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Statistics;

/// <summary>Stage 3's model judgments (generation tasks) against their contract: always the batched form, every feature judged, a missing judgment left unknown only on the last attempt.</summary>
public sealed class InfluenceJudgmentContractTests
{
    private static readonly RpmTask Task = RpmTask.Generation("reviews", "Write the review.");
    private static readonly TextBudget Budget = new(new RpmOptions());

    private static ItemFeatures Item(string id, params string[] features) =>
        new(new HistoryItem(id, "Input of " + id, "The text the user wrote for " + id), [.. features.Select(f => new Feature(f, "ctx " + f, "F"))]);

    [Fact]
    public void One_item_is_sent_under_items_with_its_features_and_the_users_text_but_no_factor()
    {
        var data = Contracts.Data(new InfluenceJudgmentContract(Task, [Item("a", "Plot")], Budget));

        Assert.Equal(["items"], data.Select(p => p.Key));
        Assert.Equal("""{"itemId":"a","features":[{"name":"Plot","context":"ctx Plot"}],"userText":"The text the user wrote for a"}""", data["items"]![0]!.ToJsonString());
    }

    [Fact]
    public void The_schema_allows_only_the_calls_items_features_and_polarities()
    {
        var schema = Contracts.Schema(new InfluenceJudgmentContract(Task, [Item("a", "Plot"), Item("b", "Plot", "Tone")], Budget));

        Assert.Equal("a,b", Contracts.Enum(schema, "items", "[]", "itemId"));
        Assert.Equal("Plot,Tone", Contracts.Enum(schema, "items", "[]", "judgments", "[]", "feature"));
        Assert.Equal("positive,neutral,negative,null", Contracts.Enum(schema, "items", "[]", "judgments", "[]", "polarity"));
    }

    [Fact]
    public void A_missing_judgment_is_repaired_and_on_the_last_attempt_left_unknown_and_counted()
    {
        var contract = new InfluenceJudgmentContract(Task, [Item("a", "Plot", "Tone")], Budget);
        const string Reply = """{"items": [{"itemId": "a", "judgments": [{"feature": "plot", "influential": true, "polarity": "negative"}]}]}""";

        OutputValidation<IReadOnlyList<ItemFeatures>> first = Contracts.Validate(contract, Reply);
        OutputValidation<IReadOnlyList<ItemFeatures>> last = Contracts.Validate(contract, Reply, Contracts.LastAttempt);

        Assert.Equal("Item 'a': the feature 'Tone' needs \"influential\": true or false.", first.Error);
        Assert.True(last.IsValid);
        Feature plot = last.Value![0].Features[0], tone = last.Value![0].Features[1];
        Assert.True(plot.Influential);
        Assert.Equal(FeaturePolarity.Negative, plot.Polarity);
        Assert.Null(tone.Influential);
        Assert.Equal(1, last.Diagnostics.MissingJudgments);
    }

    [Fact]
    public void An_influential_feature_needs_a_polarity()
    {
        var contract = new InfluenceJudgmentContract(Task, [Item("a", "Plot")], Budget);

        Assert.Equal(
            "Item 'a': the influential feature 'Plot' needs \"polarity\": \"positive\", \"neutral\" or \"negative\".",
            Contracts.Validate(contract, """{"items": [{"itemId": "a", "judgments": [{"feature": "Plot", "influential": true, "polarity": "sideways"}]}]}""").Error);
    }
}
