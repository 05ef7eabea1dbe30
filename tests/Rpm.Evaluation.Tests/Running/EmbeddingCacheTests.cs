using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Running;

/// <summary>Each distinct text is embedded once per run, whatever methods and passes ask for it.</summary>
public sealed class EmbeddingCacheTests
{
    [Fact]
    public async Task A_run_embeds_each_distinct_text_once_and_answers_as_without_the_cache()
    {
        EvaluationDataset data = SmallData.Ratings();
        IEvaluationMethod[] methods = [new HistoryVoteMethod(), new RagMethod(RagRetriever.Dense)];
        var uncached = new HashingEmbeddingGenerator();
        var cached = new HashingEmbeddingGenerator();

        EvaluationResult without = await new EvaluationRunner(new EvaluationRunnerOptions { CacheEmbeddings = false }).RunAsync(data, methods, new EvalChatClient(), uncached);
        EvaluationResult with = await new EvaluationRunner().RunAsync(data, methods, new EvalChatClient(), cached);

        Assert.True(uncached.Inputs.Count > uncached.Inputs.Distinct().Count(), "without the cache some text is embedded more than once");
        Assert.Equal(cached.Inputs.Distinct().Count(), cached.Inputs.Count);
        Assert.Equal(uncached.Inputs.Distinct().Order(StringComparer.Ordinal), cached.Inputs.Order(StringComparer.Ordinal));
        for (int m = 0; m < methods.Length; m++)
        {
            Assert.Equal(without.Methods[m].Predictions.Items, with.Methods[m].Predictions.Items);
        }
    }
}
