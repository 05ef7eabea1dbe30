using System.Text.Json.Nodes;
using Rpm.Tests.StructuredOutput;

namespace Rpm.Tests.Generation;

/// <summary>Stage 7 against its contract: statistics before the query, examples most similar first, the answer normalized by the task.</summary>
public sealed class GenerationContractTests
{
    private static readonly RpmTask Rating = RpmTask.Rating("movies", "Rate the movie.", new RatingScale(1, 5, 1));
    private static readonly TextBudget Budget = new(new RpmOptions());

    private static GenerationContract Contract(RpmTask task)
    {
        var path = new ReasoningPath(new HistoryItem("h1", "An old film", "4"), [new Feature("Slow burn", "a quiet start", "Pacing")], "The user likes slow films.");
        var model = new UserModel("u", task, [new FactorStatistics(new Factor("Pacing", "How fast."), 1)], [path]);
        return new GenerationContract(model, new RpmQuery("A new film", "q1"), [new Feature("Quiet", "little dialogue", null)], [new RetrievedExample(path, 0.91234f)], Budget);
    }

    [Fact]
    public void The_data_holds_the_statistics_then_the_query_its_features_and_the_examples_with_their_reasoning()
    {
        var data = Contracts.Data(Contract(Rating));

        Assert.Equal(["factors", "query", "queryFeatures", "examples"], data.Select(p => p.Key));
        Assert.Equal("unassigned", data["queryFeatures"]![0]!["factor"]!.GetValue<string>());
        Assert.Equal(0.912, data["examples"]![0]!["similarity"]!.GetValue<double>());
        Assert.Equal("The user likes slow films.", data["examples"]![0]!["reasoning"]!.GetValue<string>());
    }

    [Fact]
    public void A_task_with_known_answers_makes_them_an_enum_and_free_text_keeps_its_answer_free()
    {
        Assert.Equal("1,2,3,4,5", Contracts.Enum(Contracts.Schema(Contract(Rating)), "answer"));

        // The schema is still edited for the rationale's citations (the grounding check), not for the answer.
        JsonObject generation = Contracts.Schema(Contract(RpmTask.Generation("reviews", "Write the review.")));
        Assert.Null(generation["properties"]!["answer"]!["enum"]);
        Assert.Equal("Pacing", Contracts.Enum(generation, "citations", "[]", "factor"));
    }

    [Fact]
    public void The_answer_is_normalized_by_the_task_and_a_missing_rationale_or_invalid_answer_is_repaired()
    {
        GenerationContract contract = Contract(Rating);

        Assert.Equal(("4", "Slow."), Contracts.Validate(contract, """{"rationale": " Slow. ", "answer": "4.0"}""").Value);
        Assert.Equal("\"rationale\" must not be empty.", Contracts.Validate(contract, """{"rationale": "", "answer": "4"}""").Error);
        Assert.StartsWith("\"answer\" is not valid: ", Contracts.Validate(contract, """{"rationale": "r", "answer": "9"}""").Error, StringComparison.Ordinal);
    }
}
