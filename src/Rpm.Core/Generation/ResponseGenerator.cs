using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Rpm;

/// <summary>Stage 7: the personalized rationale and final answer, validated against the task.</summary>
internal sealed class ResponseGenerator
{
    private readonly StructuredChat _chat;
    private readonly TextBudget _budget;

    public ResponseGenerator(IChatClient chatClient, RpmOptions options, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        _chat = new StructuredChat(chatClient, options, typeof(ResponseGenerator), loggerFactory, meterFactory);
        _budget = new TextBudget(options);
    }

    /// <summary>The answer and rationale; <c>Grounded</c> is false when the rationale was kept ungrounded after the repair turn.</summary>
    public async Task<(string Answer, string Rationale, bool Grounded, ModelUsage Usage)> GenerateAsync(
        UserModel model, RpmQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample> examples, CancellationToken cancellationToken)
    {
        ValidatedChatResponse<(string Answer, string Rationale)> response = await _chat.GetAsync(
            new GenerationContract(model, query, features, examples, _budget), cancellationToken).ConfigureAwait(false);
        return (response.Result.Answer, response.Result.Rationale, response.Diagnostics.UngroundedPaths == 0, response.Usage);
    }
}
