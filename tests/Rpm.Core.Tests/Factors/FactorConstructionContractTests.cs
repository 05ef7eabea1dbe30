using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Factors;

/// <summary>Stage 2 against its contract: the distinct features as data, the asked number of factors, features named only from the data.</summary>
public sealed class FactorConstructionContractTests
{
    private static readonly RpmTask Task = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));

    private static IReadOnlyList<DistinctFeature> Shown() => DistinctFeature.Collect(
    [
        new ItemFeatures(new HistoryItem("1", "i1", "4"), [new Feature("Slow burn", "a quiet start", "Pacing"), new Feature("Star", "a famous lead", "Cast")]),
        new ItemFeatures(new HistoryItem("2", "i2", "2"), [new Feature("Slow burn", "long scenes", "Pacing")]),
    ]);

    [Fact]
    public void The_prompt_lists_each_distinct_feature_with_its_count_contexts_and_suggested_factors_most_frequent_first()
    {
        var data = Contracts.Data(new FactorConstructionContract("u", Task, Shown(), 1, 2));

        Assert.Equal(
            """{"name":"Slow burn","items":2,"contexts":["a quiet start","long scenes"],"suggestedFactors":["Pacing"]}""",
            data["features"]![0]!.ToJsonString());
        Assert.Equal("Star", data["features"]![1]!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(1, 2, "between 1 and 2 user-level factors")]
    [InlineData(2, 2, "into 2 user-level factors")]
    [InlineData(1, 1, "into 1 user-level factor:")]
    public void The_prompt_asks_for_the_number_of_factors_the_options_allow(int min, int max, string asked)
    {
        Assert.Contains(asked, Contracts.Instructions(new FactorConstructionContract("u", Task, Shown(), min, max)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_factors_features_are_an_enum_of_the_shown_feature_names_and_the_call_is_reported_for_the_user()
    {
        var contract = new FactorConstructionContract("user-7", Task, Shown(), 1, 2);

        Assert.Equal("Slow burn,Star", Contracts.Enum(Contracts.Schema(contract), "factors", "[]", "features", "[]"));
        Assert.Equal("user-7", contract.ItemId);
        Assert.Equal(RpmStage.FactorConstruction, contract.Stage);
    }

    [Fact]
    public void A_reply_with_no_usable_factor_gets_a_repair_hint()
    {
        var contract = new FactorConstructionContract("u", Task, Shown(), 1, 2);

        Assert.Equal(
            "No factor lists any feature from the data under \"features\"; assign every feature, by its exact name, to one factor.",
            Contracts.Validate(contract, """{"factors": [{"name": "Mood", "description": "d", "features": ["Unknown"]}]}""").Error);
        Assert.Equal(["Pacing"], Contracts.Validate(contract, """{"factors": [{"name": "Pacing", "description": "d", "features": ["Slow burn"]}]}""").Value!.Factors.Select(f => f.Name));
    }
}
