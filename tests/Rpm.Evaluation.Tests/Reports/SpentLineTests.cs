using Microsoft.Extensions.AI;
using Rpm.Evaluation.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Reports;

/// <summary>The report's cost line says what happened to the calls, including calls the endpoint refused.</summary>
public sealed class SpentLineTests
{
    [Fact]
    public async Task When_the_endpoint_refused_every_call_the_report_says_so_instead_of_no_calls_were_made()
    {
        EvaluationDataset data = SmallData.Tags();
        EvaluationResult result = await new EvaluationRunner().RunAsync(data, [new ZeroShotMethod()], new RefusingEndpoint(), null);

        string markdown = EvaluationReportWriter.RenderMarkdown(result);

        Assert.Equal(data.QueryCount, result.Methods[0].FailedQueries);
        Assert.DoesNotContain("No model calls were made.", markdown, StringComparison.Ordinal);
        Assert.Contains($"No model call was answered: {data.QueryCount} queries failed at the endpoint", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_without_model_methods_says_no_model_calls_were_made()
    {
        EvaluationResult result = await new EvaluationRunner().RunAsync(SmallData.Tags(), [new UserPriorMethod()], null, null);

        Assert.Contains("No model calls were made.", EvaluationReportWriter.RenderMarkdown(result), StringComparison.Ordinal);
    }

    private sealed class RefusingEndpoint : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new HttpRequestException("401 Unauthorized: invalid api key", null, System.Net.HttpStatusCode.Unauthorized);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

/// <summary>A generation task's statistics read as what they are.</summary>
public sealed class GenerationStatisticsTextTests
{
    [Fact]
    public void Influence_and_polarity_are_written_in_words_with_percentages()
    {
        RpmTask titles = RpmTask.Generation("titles", "Write the title.");

        string shaped = ReportFormat.Statistics(titles, new FactorStatistics(new Factor("Topic", null), 12, influence: 3, positiveShare: 2 / 3.0, neutralShare: 1 / 3.0, negativeShare: 0));
        string none = ReportFormat.Statistics(titles, new FactorStatistics(new Factor("Style", null), 4, influence: 0, positiveShare: 0, neutralShare: 0, negativeShare: 0));

        Assert.Equal("3 features shaped the user's text: 67% toward it, 33% neutral, 0% away from it", shaped);
        Assert.Equal("no feature judged to shape the user's text", none);
        Assert.DoesNotContain("-0.00", shaped, StringComparison.Ordinal);
    }
}
