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

    public async Task<(string Answer, string Rationale, ModelUsage Usage)> GenerateAsync(
        UserModel model, RpmQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample> examples, CancellationToken cancellationToken)
    {
        ValidatedChatResponse<(string Answer, string Rationale)> response = await _chat.GetAsync(
            RpmStage.Generation,
            query.Id,
            RpmPrompts.Generation(model, query, features, examples, _budget),
            RpmJsonContext.Default.AnswerOutput,
            (output, _) =>
            {
                if (string.IsNullOrWhiteSpace(output.Rationale))
                {
                    return OutputValidation<(string, string)>.Invalid("\"rationale\" must not be empty.");
                }

                return model.Task.TryNormalizeAnswer(output.Answer, query.Options, out string answer, out string? error)
                    ? OutputValidation<(string, string)>.Valid((answer, output.Rationale.Trim()))
                    : OutputValidation<(string, string)>.Invalid($"\"answer\" is not valid: {error}");
            },
            model.Task.GetAnswerValues(query.Options) is { } values ? schema => SchemaEdits.SetEnum(schema, [.. values], "answer") : null,
            cancellationToken).ConfigureAwait(false);
        return (response.Result.Answer, response.Result.Rationale, response.Usage);
    }
}
