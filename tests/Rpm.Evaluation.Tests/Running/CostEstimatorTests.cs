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
}
