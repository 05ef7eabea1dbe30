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
