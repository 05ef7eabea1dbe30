using System.Text.Json.Nodes;
using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Features;

/// <summary>Stages 1 and 5 against their contract: what the call sends (one item or a batch, from one item writer), the schema it asks for, and what it accepts.</summary>
public sealed class FeatureExtractionContractTests
{
    private static readonly RpmTask Task = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));
    private static readonly RpmOptions Options = new() { MaxFeaturesPerItem = 3 };
    private static readonly TextBudget Budget = new(Options);
    private static readonly IReadOnlyList<FactorStatistics> Factors =
        [new(new Factor("Pacing", "How fast the story moves."), 2), new(new Factor("Cast", "Who acts in it."), 1)];

    private static FeatureExtractionRequest Request(string id, IReadOnlyList<FactorStatistics>? factors = null) =>
        new(Task, id, "Input of " + id, factors: factors);

    [Fact]
    public void A_batch_writes_each_item_as_the_one_item_call_writes_its_item_and_the_factors_once_before_them()
    {
        JsonObject one = Contracts.Data(new FeatureExtractionContract(Request("a", Factors), Options, Budget));
        JsonObject batch = Contracts.Data(new FeatureBatchContract([Request("a", Factors), Request("b", Factors)], Options, Budget));

        Assert.Equal(["factors", "items"], batch.Select(p => p.Key));
        Assert.Equal(one["factors"]!.ToJsonString(), batch["factors"]!.ToJsonString());
        var itemOfOne = new JsonObject(one.Where(p => p.Key != "factors").Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        Assert.Equal(itemOfOne.ToJsonString(), batch["items"]![0]!.ToJsonString());
        Assert.Equal("b", batch["items"]![1]!["itemId"]!.GetValue<string>());
    }

    [Fact]
    public void Without_factors_the_prompt_asks_for_a_suggested_category_and_sends_no_factors()
    {
        var contract = new FeatureExtractionContract(Request("a"), Options, Budget);

        Assert.Equal(RpmStage.FeatureExtraction, contract.Stage);
        Assert.False(Contracts.Data(contract).ContainsKey("factors"));
        Assert.Contains("broader category", Contracts.Instructions(contract), StringComparison.Ordinal);
        Assert.Contains("between 1 and 3 features", Contracts.Instructions(contract), StringComparison.Ordinal);
    }

    [Fact]
    public void With_factors_the_schema_allows_only_the_users_factors_or_null_and_the_batch_only_its_item_ids()
    {
        var one = new FeatureExtractionContract(Request("a", Factors), Options, Budget);
        var batch = new FeatureBatchContract([Request("a", Factors), Request("b", Factors)], Options, Budget);

        Assert.Equal(RpmStage.QueryFeatureExtraction, one.Stage);
        Assert.Equal("Pacing,Cast,null", Contracts.Enum(Contracts.Schema(one), "features", "[]", "factor"));
        Assert.Equal("Pacing,Cast,null", Contracts.Enum(Contracts.Schema(batch), "items", "[]", "features", "[]", "factor"));
        Assert.Equal("a,b", Contracts.Enum(Contracts.Schema(batch), "items", "[]", "itemId"));
        Assert.Equal("a,b", batch.ItemId);
    }

    [Fact]
    public void A_reply_is_trimmed_to_the_maximum_deduplicated_and_a_factor_outside_the_users_is_kept_unassigned()
    {
        var contract = new FeatureExtractionContract(Request("a", Factors), Options, Budget);

        OutputValidation<IReadOnlyList<Feature>> result = Contracts.Validate(contract, """
            {"features": [
              {"name": "Slow burn", "context": "a quiet start", "factor": "pacing"},
              {"name": "slow burn", "context": "again", "factor": "Pacing"},
              {"name": "Star", "context": "a famous lead", "factor": "Fame"},
              {"name": "Score", "context": "the music", "factor": null},
              {"name": "Fourth", "context": "beyond the maximum", "factor": null}
            ]}
            """);

        Assert.True(result.IsValid);
        Assert.Equal(["Slow burn", "Star"], result.Value!.Select(f => f.Name));
        Assert.Equal("Pacing", result.Value![0].Factor);
        Assert.True(result.Value![1].IsUnassigned);
    }

    [Theory]
    [InlineData("""{"features": []}""", "\"features\" must list at least one feature.")]
    [InlineData("""{"features": [{"name": " ", "context": "c", "factor": null}]}""", "Every feature needs a non-empty \"name\" and \"context\".")]
    public void An_unusable_reply_gets_a_repair_hint(string reply, string error)
    {
        OutputValidation<IReadOnlyList<Feature>> result = Contracts.Validate(new FeatureExtractionContract(Request("a"), Options, Budget), reply);

        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void A_batch_reply_must_answer_every_item_and_names_the_item_whose_part_is_unusable()
    {
        var batch = new FeatureBatchContract([Request("a"), Request("b")], Options, Budget);

        OutputValidation<IReadOnlyList<IReadOnlyList<Feature>>> missing = Contracts.Validate(batch, """
            {"items": [{"itemId": "a", "features": [{"name": "n", "context": "c", "factor": null}]}]}
            """);
        OutputValidation<IReadOnlyList<IReadOnlyList<Feature>>> empty = Contracts.Validate(batch, """
            {"items": [{"itemId": " b ", "features": [{"name": "n", "context": "c", "factor": null}]}, {"itemId": "a", "features": []}]}
            """);

        Assert.Equal("\"items\" must have one entry for every item; missing: b.", missing.Error);
        Assert.Equal("Item 'a': \"features\" must list at least one feature.", empty.Error);
    }
}
