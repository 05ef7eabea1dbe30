using System.Text.Json.Nodes;
using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Reasoning;

/// <summary>Stage 4 against its contract: the statistics once before the items, one item writer for both forms, free text accepted only when written.</summary>
public sealed class ReasoningPathContractTests
{
    private static readonly RpmTask Task = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));
    private static readonly TextBudget Budget = new(new RpmOptions());
    private static readonly IReadOnlyList<FactorStatistics> Statistics =
        [new(new Factor("Pacing", "How fast the story moves."), 2, propensity: new Dictionary<string, double> { ["4"] = 0.5, ["2"] = 0.5 })];

    private static ReasoningPathRequest Request(string id) =>
        new(Task, new HistoryItem(id, "Input of " + id, "4"), [new Feature("Slow burn", "a quiet start", "Pacing")], Statistics);

    [Fact]
    public void A_batch_writes_each_item_as_the_one_item_call_does_after_one_copy_of_the_statistics()
    {
        JsonObject one = Contracts.Data(new ReasoningPathContract(Request("a"), Budget));
        JsonObject batch = Contracts.Data(new ReasoningBatchContract([Request("a"), Request("b")], Budget));

        Assert.Equal("factors", one.First().Key);
        Assert.Equal(["factors", "items"], batch.Select(p => p.Key));
        var itemOfOne = new JsonObject(one.Where(p => p.Key != "factors").Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        Assert.Equal(itemOfOne.ToJsonString(), batch["items"]![0]!.ToJsonString());
        Assert.Equal("4", one["userAnswer"]!.GetValue<string>());
    }

    [Fact]
    public void The_one_item_call_names_the_users_factors_in_its_citations_and_the_batch_names_its_item_ids()
    {
        Assert.Equal("Pacing", Contracts.Enum(Contracts.Schema(new ReasoningPathContract(Request("a"), Budget)), "citations", "[]", "factor"));
        Assert.Equal("a,b", Contracts.Enum(Contracts.Schema(new ReasoningBatchContract([Request("a"), Request("b")], Budget)), "items", "[]", "itemId"));
    }

    [Fact]
    public void A_reasoning_is_trimmed_and_an_empty_one_is_repaired_in_both_forms()
    {
        var one = new ReasoningPathContract(Request("a"), Budget);
        var batch = new ReasoningBatchContract([Request("a"), Request("b")], Budget);

        Assert.Equal("Because.", Contracts.Validate(one, """{"reasoning": "  Because. "}""").Value);
        Assert.Equal("\"reasoning\" must not be empty.", Contracts.Validate(one, """{"reasoning": " "}""").Error);
        Assert.Equal(
            "\"items\" must have a non-empty reasoning for every item; missing: b.",
            Contracts.Validate(batch, """{"items": [{"itemId": "a", "reasoning": "R."}, {"itemId": "b", "reasoning": ""}]}""").Error);
        Assert.Equal(["A.", "B."], Contracts.Validate(batch, """{"items": [{"itemId": "b", "reasoning": "B."}, {"itemId": "a", "reasoning": "A."}]}""").Value);
    }
}
