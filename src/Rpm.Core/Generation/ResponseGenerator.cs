using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>Stage 7: the personalized rationale and final answer, validated against the task.</summary>
internal sealed class ResponseGenerator
{
    private readonly StructuredChat _chat;
    private readonly TextBudget _budget;

    public ResponseGenerator(IChatClient chatClient, RpmOptions options)
    {
        _chat = new StructuredChat(chatClient, options);
        _budget = new TextBudget(options);
    }

    public async Task<(string Answer, string Rationale, ModelUsage Usage)> GenerateAsync(
        UserModel model, RpmQuery query, IReadOnlyList<Feature> features, IReadOnlyList<RetrievedExample> examples, CancellationToken cancellationToken)
    {
        var (result, usage) = await _chat.GetAsync(
            RpmStage.Generation,
            query.Id,
            RpmPrompts.Generation(model, query, features, examples, _budget),
            RpmJsonContext.Default.AnswerOutput,
            output =>
            {
                if (string.IsNullOrWhiteSpace(output.Rationale))
                {
                    return Validated<(string, string)>.Fail("\"rationale\" must not be empty.");
                }

                return model.Task.TryNormalizeAnswer(output.Answer, query.Options, out string answer, out string? error)
                    ? Validated<(string, string)>.Ok((answer, output.Rationale.Trim()))
                    : Validated<(string, string)>.Fail($"\"answer\" is not valid: {error}");
            },
            cancellationToken).ConfigureAwait(false);
        return (result.Item1, result.Item2, usage);
    }
}
