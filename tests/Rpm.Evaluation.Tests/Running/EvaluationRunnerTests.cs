using Microsoft.Extensions.AI;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Running;

public sealed class EvaluationRunnerTests
{
    private static EvaluationRunner Runner(string? cache, int concurrency = 2, UsageMeter? unused = null) => new(new EvaluationRunnerOptions
    {
        CachePath = cache,
        ModelId = "fake-model",
        MaxConcurrency = concurrency,
        Prices = new TokenPrices(0.15m, 0.60m),
    });

    private static IReadOnlyList<IEvaluationMethod> Methods(params string[] names) => [.. names.Select(EvaluationMethods.Create)];

    [Fact]
    public async Task A_second_run_over_the_same_cache_makes_zero_model_calls_and_gives_the_same_predictions()
    {
        EvaluationDataset data = SmallData.Tags();
        string cache = Path.Combine(TestFiles.NewFolder(), "answers.sqlite");
        IReadOnlyList<IEvaluationMethod> methods = Methods("zero-shot", "rag-bm25-cot", "pag", "rpm", "rpm-fallback", "history-vote");
        var first = new EvalChatClient();
        var second = new EvalChatClient();

        EvaluationResult one = await Runner(cache).RunAsync(data, methods, first, new HashingEmbeddingGenerator());
        EvaluationResult two = await Runner(cache).RunAsync(data, methods, second, new HashingEmbeddingGenerator());

        Assert.True(first.CallCount > 0);
        Assert.Equal(0, second.CallCount);
        Assert.Equal(0, two.Spent.Calls);
        Assert.Equal(first.CallCount, one.Spent.Calls);
        Assert.Equal(one.Methods.Select(m => m.Predictions.Items), two.Methods.Select(m => m.Predictions.Items));
        Assert.Equal(one.Methods.Select(m => m.TotalUsage.Calls), two.Methods.Select(m => m.TotalUsage.Calls));
        Assert.All(two.Methods.Where(m => m.UsesChatModel), m => Assert.Equal(m.TotalUsage.Calls, m.TotalUsage.CachedCalls));

        // RPM and its fallback build the same user model: the run paid for those calls once.
        MethodResult rpm = one.Methods.Single(m => m.Name == "rpm");
        MethodResult fallback = one.Methods.Single(m => m.Name == "rpm-fallback");
        Assert.Equal(rpm.BuildUsage.Calls, fallback.BuildUsage.Calls);
        Assert.Equal(0, fallback.QueryUsage.Calls);
        Assert.Equal(one.Methods.Sum(m => m.TotalUsage.Calls) - fallback.BuildUsage.Calls, one.Spent.Calls);
    }

    [Fact]
    public async Task An_interrupted_run_resumes_and_pays_only_for_the_calls_it_had_not_finished()
    {
        EvaluationDataset data = SmallData.Tags();
        IReadOnlyList<IEvaluationMethod> methods = Methods("zero-shot", "rpm");
        var uncached = new EvalChatClient();
        await Runner(cache: null, concurrency: 1).RunAsync(data, methods, uncached, new HashingEmbeddingGenerator());
        int total = uncached.CallCount;

        string cache = Path.Combine(TestFiles.NewFolder(), "answers.sqlite");
        using var stop = new CancellationTokenSource();
        var interrupted = new EvalChatClient { OnCall = _ => { } };
        interrupted.OnCall = _ =>
        {
            if (interrupted.CallCount == 7)
            {
                stop.Cancel();
            }
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Runner(cache, concurrency: 1).RunAsync(data, methods, interrupted, new HashingEmbeddingGenerator(), cancellationToken: stop.Token));

        var resumed = new EvalChatClient();
        EvaluationResult result = await Runner(cache, concurrency: 1).RunAsync(data, methods, resumed, new HashingEmbeddingGenerator());

        // The seventh call was cancelled before it was answered; the six before it are in the cache.
        Assert.Equal(total - 6, resumed.CallCount);
        Assert.Equal(6, result.Methods.Sum(m => m.TotalUsage.CachedCalls));
        Assert.Equal(3, result.Methods.Single(m => m.Name == "rpm").Predictions.Items.Count(p => p.Value.Length > 0));
    }

    [Fact]
    public async Task Without_reported_usage_tokens_are_counted_with_the_o200k_tokenizer()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient { Usage = null };

        EvaluationResult result = await Runner(cache: null).RunAsync(data, Methods("zero-shot"), chat, null);

        MethodResult zeroShot = Assert.Single(result.Methods);
        long expectedInput = chat.Requests.Sum(r => MeteringChatClient.CountInputTokens(EvaluationTokenizer.O200kBase, r.Messages));
        long expectedOutput = chat.Requests.Sum(r => (long)EvaluationTokenizer.O200kBase.CountTokens(EvalChatClient.Answer(r)));
        Assert.Equal(3, zeroShot.QueryUsage.Calls);
        Assert.Equal(3, zeroShot.QueryUsage.EstimatedCalls);
        Assert.Equal(expectedInput, zeroShot.QueryUsage.InputTokens);
        Assert.Equal(expectedOutput, zeroShot.QueryUsage.OutputTokens);
        Assert.True(expectedInput > 3 * 50);
    }

    [Fact]
    public async Task Reported_usage_is_taken_as_is_and_costs_follow_the_prices_per_million()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient { Usage = new UsageDetails { InputTokenCount = 1000, OutputTokenCount = 200 } };

        EvaluationResult result = await Runner(cache: null).RunAsync(data, Methods("zero-shot", "pag"), chat, null);

        MethodResult pag = result.Methods.Single(m => m.Name == "pag");
        Assert.Equal(new UsageTotals(2, 0, 2000, 400, 0), pag.BuildUsage);
        Assert.Equal(new UsageTotals(3, 0, 3000, 600, 0), pag.QueryUsage);

        // (2000 x 0.15 + 400 x 0.60) / 1e6 = 0.00054 over 2 users; (3000 x 0.15 + 600 x 0.60) / 1e6 = 0.00081 over 3 queries.
        Assert.Equal(0.00027m, pag.BuildCostPerUser(result.Prices!));
        Assert.Equal(0.00027m, pag.CostPerQuery(result.Prices!));
        Assert.Equal(0.00135m, pag.TotalUsage.Cost(result.Prices!));
        Assert.Equal((1.0, 1000.0, 200.0), pag.BuildPerUser);
        Assert.Equal(0.45m, new TokenPrices(0.15m, 0.60m).Cost(1_000_000, 500_000));
        Assert.Equal(new UsageTotals(5, 0, 5000, 1000, 0), result.Methods.Single(m => m.Name == "zero-shot").QueryUsage + pag.BuildUsage);
    }

    [Fact]
    public async Task Without_a_chat_model_the_model_methods_are_skipped_with_the_reason()
    {
        EvaluationDataset data = SmallData.Ratings();
        var runner = new EvaluationRunner(new EvaluationRunnerOptions { ChatModelUnavailableReason = "the endpoint is down." });

        EvaluationResult result = await runner.RunAsync(data, EvaluationMethods.CreateAll(), null, new HashingEmbeddingGenerator());

        Assert.Equal(["history-vote", "user-prior"], result.Methods.Select(m => m.Name));
        Assert.Equal(EvaluationMethods.Names.Count - 2, result.Skipped.Count);
        Assert.All(result.Skipped, s => Assert.Equal("the endpoint is down.", s.Reason));
        Assert.Equal("(none)", result.ModelId);
        Assert.Equal(0, result.Spent.Calls);
        Assert.Equal(2, result.Methods[0].Metrics.Count);
    }

    [Fact]
    public async Task A_failing_call_is_recorded_and_scored_as_an_empty_answer_while_the_run_goes_on()
    {
        EvaluationDataset data = SmallData.Tags();
        var chat = new EvalChatClient { OnCall = r => { if (r.Data["query"]?.GetValue<string>().Contains("Gattaca", StringComparison.Ordinal) == true) { throw new HttpRequestException("connection reset"); } } };

        EvaluationResult result = await Runner(cache: null).RunAsync(data, Methods("zero-shot"), chat, null);

        MethodResult method = Assert.Single(result.Methods);
        Assert.Equal(1, method.FailedQueries);
        MethodFailure failure = Assert.Single(method.Failures);
        Assert.Equal("q1", failure.QueryId);
        Assert.Contains("connection reset", failure.Message, StringComparison.Ordinal);
        Assert.Equal(string.Empty, method.Predictions.ToDictionary()["q1"]);
        Assert.Equal(1, method.Metrics.InvalidAnswers);
    }

    [Fact]
    public async Task Progress_reports_every_step_with_calls_and_an_estimate_of_the_time_left()
    {
        EvaluationDataset data = SmallData.Tags();
        var reports = new List<EvaluationProgress>();
        var progress = new SyncProgress(reports);

        await Runner(cache: null, concurrency: 1).RunAsync(data, Methods("zero-shot", "user-prior"), new EvalChatClient(), null, progress);

        Assert.Equal(0, reports[0].StepsDone);
        Assert.Null(reports[0].Remaining);
        EvaluationProgress last = reports[^1];
        Assert.Equal(4, last.StepsTotal);
        Assert.Equal(4, last.StepsDone);
        Assert.Equal(2, last.UsersDone);
        Assert.Equal(3, last.Usage.Calls);
        Assert.Equal(3, last.EndpointCalls);
        Assert.Equal(TimeSpan.Zero, last.Remaining);
        Assert.Contains(reports, r => r.StepsDone == 1 && r.Remaining is not null);
    }

    private sealed class SyncProgress(List<EvaluationProgress> reports) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
