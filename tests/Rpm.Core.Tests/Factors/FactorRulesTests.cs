using Rpm.Tests.Fakes;

namespace Rpm.Tests.Factors;

/// <summary>Factor construction reads leniently and completes by rules; each step is counted.</summary>
public sealed class FactorRulesTests
{
    private static readonly RpmTask Rating = RpmTask.Rating("r", "Rate.", new RatingScale(1, 5, 1));

    private static ItemFeatures Item(string id, params (string Name, string Category)[] features) =>
        new(new HistoryItem(id, "input " + id, "3"), [.. features.Select(f => new Feature(f.Name, "ctx " + f.Name, f.Category))]);

    [Fact]
    public async Task Duplicate_factors_merge_and_factors_beyond_the_maximum_are_dropped_with_their_features_assigned_by_rule()
    {
        var chat = new FakeChatClient
        {
            Respond = _ => """
                {"factors": [
                  {"name": "Space", "description": "d", "features": ["Rockets"]},
                  {"name": "space", "description": "d", "features": ["Planets"]},
                  {"name": "Tiny", "description": "d", "features": []},
                  {"name": "Love", "description": "d", "features": ["Kisses"]}
                ]}
                """,
        };
        ItemFeatures[] items = [Item("1", ("Rockets", "Space"), ("Planets", "Space")), Item("2", ("Kisses", "Love"), ("Weddings", "Love"))];

        FactorConstruction result = await new FactorConstructor(chat, new RpmOptions { MinFactors = 1, MaxFactors = 2 }).ConstructFactorsAsync("u", Rating, items);

        Assert.Equal(["Space", "Love"], result.Factors.Select(f => f.Name));
        Assert.Equal(2, result.Diagnostics.FactorsMergedOrDropped);
        Assert.Equal("Love", result.Items[1].Features.Single(f => f.Name == "Weddings").Factor);
        Assert.Equal(1, result.Diagnostics.FeaturesAssignedByRule);
        Assert.Equal(1, chat.CallCount);
    }

    [Fact]
    public async Task The_prompt_asks_for_no_more_factors_than_features_and_lists_only_the_most_frequent_ones()
    {
        var chat = new FakeChatClient();
        ItemFeatures[] items = [Item("1", ("Rockets", "Space"), ("Kisses", "Love")), Item("2", ("Rockets", "Space"))];

        FactorConstruction result = await new FactorConstructor(chat, new RpmOptions { MaxFactorConstructionFeatures = 1 }).ConstructFactorsAsync("u", Rating, items);

        FakeRequest request = Assert.Single(chat.Requests);
        Assert.Contains("Group these features into 1 user-level factor:", request.System, StringComparison.Ordinal);
        Assert.Equal(["Rockets"], request.Data["features"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
        Assert.Equal(1, result.Diagnostics.FeaturesNotShownToFactorConstruction);
    }
}
