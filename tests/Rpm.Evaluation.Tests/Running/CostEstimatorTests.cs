using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Running;

public sealed class CostEstimatorTests
{
    [Fact]
    public async Task Baseline_input_tokens_are_the_tokens_of_the_prompts_a_run_actually_sends()
    {
        EvaluationDataset data = SmallData.Tags();
        IEvaluationMethod[] methods = [new ZeroShotMethod(), new RagMethod(RagRetriever.Bm25, chainOfThought: true), new PagMethod()];
        var chat = new EvalChatClient { Usage = null };

        IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(data, methods);
        EvaluationResult actual = await new EvaluationRunner().RunAsync(data, methods, chat, null);

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(actual.Methods[i].QueryUsage.InputTokens, estimates[i].Query.InputTokens);
            Assert.Equal(actual.Methods[i].QueryUsage.Calls, estimates[i].Query.Calls);
        }

        Assert.Equal(actual.Methods[2].BuildUsage.InputTokens, estimates[2].Build.InputTokens);
        Assert.Equal(2, estimates[2].Build.Calls);
    }

    [Fact]
    public async Task RPM_is_estimated_at_2N_plus_1_calls_per_user_and_2_per_query_and_model_free_methods_at_none()
    {
        EvaluationDataset data = SmallData.Ratings();

        IReadOnlyList<MethodEstimate> estimates = await new CostEstimator().EstimateAsync(data, [new RpmMethod(), new RpmFallbackMethod(), new HistoryVoteMethod(), new UserPriorMethod()]);

        Assert.Equal((2 * 4) + 1 + (2 * 3) + 1, estimates[0].Build.Calls);
        Assert.Equal(2 * 2, estimates[0].Query.Calls);
        Assert.Equal(estimates[0].Build, estimates[1].Build);
        Assert.Equal(UsageTotals.Zero, estimates[1].Query);
        Assert.Equal(UsageTotals.Zero, estimates[2].Total);
        Assert.Equal(UsageTotals.Zero, estimates[3].Total);
        Assert.Equal("no model calls", estimates[3].Note);
        Assert.True(estimates[0].Build.InputTokens > estimates[0].Build.Calls * 200);
    }

    [Fact]
    public async Task Batched_builds_are_estimated_as_a_batched_run_pays_them()
    {
        EvaluationDataset data = SmallData.Ratings();                       // users with 4 and 3 history items
        var chat = new EvalChatClient { Usage = null };

        MethodEstimate paper = Assert.Single(await new CostEstimator().EstimateAsync(data, [new RpmMethod()]));
        MethodEstimate batched = Assert.Single(await new CostEstimator().EstimateAsync(data, [new RpmMethod()], retrievalCount: 3, batchSize: 10));
        EvaluationResult run = await new EvaluationRunner(new EvaluationRunnerOptions { BatchSize = 10 }).RunAsync(data, [new RpmMethod()], chat, new HashingEmbeddingGenerator());

        Assert.Equal((2 * 1) + 1 + (2 * 1) + 1, batched.Build.Calls);       // one feature call and one reasoning call per user
        Assert.Equal(run.Methods[0].BuildUsage.Calls, batched.Build.Calls);
        Assert.True(batched.Build.InputTokens < paper.Build.InputTokens, "batching shares the instructions and statistics among a call's items");
        Assert.Contains("2⌈N/10⌉ + 1 (batched)", batched.Note, StringComparison.Ordinal);
        Assert.Contains(chat.Requests, r => r.SchemaName == "rpm_featurebatch");
        Assert.Contains(chat.Requests, r => r.SchemaName == "rpm_reasoningbatch");
    }
}
