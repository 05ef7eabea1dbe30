using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Retrieval;

/// <summary>
/// The dense index over raw history feeding the model-free predictor, as history-vote uses it. The predictor's own
/// tests are in Rpm.Core.Tests/Fallback, beside its source; this one needs Rpm.Evaluation's index.
/// </summary>
public sealed class DenseHistoryIndexTests
{
    private static readonly RpmTask Tags = RpmTask.Classification("t", "Tag.", ["a", "b", "c"]);

    private static HistoryItem Item(string id, string output, string input) => new(id, input, output, null, null);

    [Fact]
    public async Task From_raw_history_the_most_similar_inputs_vote()
    {
        HistoryItem[] history =
        [
            Item("1", "a", "space ships and aliens"), Item("2", "b", "a romantic comedy in paris"),
            Item("3", "b", "romantic comedy wedding"), Item("4", "c", "war documentary"),
        ];
        var embeddings = new HashingEmbeddingGenerator();
        var predictor = new ModelFreePredictor(options: new ModelFreePredictorOptions { RetrievalCount = 2 });
        DenseHistoryIndex index = await DenseHistoryIndex.CreateAsync(history, embeddings);

        ModelFreePrediction p = predictor.Predict(Tags, history, "a romantic comedy", await index.SearchAsync("a romantic comedy", 2));

        Assert.Equal("b", p.Answer);
        Assert.Equal(2, p.Neighbors.Count);
        Assert.All(p.Neighbors, n => Assert.Equal("b", n.Item.Output));
        Assert.Equal("a romantic comedy", embeddings.Inputs[^1]);
    }
}
