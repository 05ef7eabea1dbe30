using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>
/// Sends a baseline prompt through the same validated structured-output path as RPM's stages
/// (<see cref="ValidatedChatClientExtensions.GetValidatedResponseAsync"/>): the same reading, coercion, repair turn and
/// metadata handling, with the question's answer space as the schema's enum.
/// </summary>
internal static class BaselineChat
{
    public static async Task<MethodAnswer> AnswerAsync(MethodContext context, List<ChatMessage> messages, bool chainOfThought, EvaluationQuery query, IReadOnlyList<ExplainedExample> examples, CancellationToken cancellationToken)
    {
        IChatClient client = context.RequireChatClient();
        try
        {
            (string Answer, string? Reasoning) result = chainOfThought
                ? (await client.GetValidatedResponseAsync(
                    messages,
                    new ValidatedOutputRequest<BaselineCotAnswerOutput, (string, string?)>(BaselineJsonContext.Default.BaselineCotAnswerOutput, (o, _) => Check(context, query, o.Answer, o.Reasoning))
                    {
                        SchemaName = "baseline_cot_answer",
                        ItemId = query.Id,
                        Enums = AnswerEnum(context, query),
                    },
                    context.CreateOutputOptions(),
                    cancellationToken).ConfigureAwait(false)).Result
                : (await client.GetValidatedResponseAsync(
                    messages,
                    new ValidatedOutputRequest<BaselineAnswerOutput, (string, string?)>(BaselineJsonContext.Default.BaselineAnswerOutput, (o, _) => Check(context, query, o.Answer, null))
                    {
                        SchemaName = "baseline_answer",
                        ItemId = query.Id,
                        Enums = AnswerEnum(context, query),
                    },
                    context.CreateOutputOptions(),
                    cancellationToken).ConfigureAwait(false)).Result;
            return new MethodAnswer(result.Answer, true) { Rationale = result.Reasoning, Examples = examples };
        }
        catch (RpmModelOutputException ex) when (ex.Failure == ModelOutputFailure.InvalidOutput)
        {
            // Scored as LaMP scores it: outside the label set is wrong, an unparseable rating counts as the far end.
            string answer = ValidatedChatClientExtensions.ReadProperty(ex.RawText, "answer")?.Trim() ?? ex.RawText.Trim();
            return new MethodAnswer(answer, false)
            {
                Rationale = chainOfThought ? ValidatedChatClientExtensions.ReadProperty(ex.RawText, "reasoning") : null,
                Examples = examples,
                Error = ex.Error,
            };
        }
    }

    public static async Task<string> SummaryAsync(MethodContext context, List<ChatMessage> messages, string userId, CancellationToken cancellationToken)
    {
        IChatClient client = context.RequireChatClient();
        ValidatedChatResponse<string> response = await client.GetValidatedResponseAsync(
            messages,
            new ValidatedOutputRequest<ProfileSummaryOutput, string>(
                BaselineJsonContext.Default.ProfileSummaryOutput,
                (o, _) => string.IsNullOrWhiteSpace(o.Summary) ? OutputValidation<string>.Invalid("\"summary\" must not be empty.") : OutputValidation<string>.Valid(o.Summary.Trim()))
            {
                SchemaName = "baseline_profile_summary",
                ItemId = userId,
            },
            context.CreateOutputOptions(),
            cancellationToken).ConfigureAwait(false);
        return response.Result;
    }

    private static OutputValidation<(string, string?)> Check(MethodContext context, EvaluationQuery query, string? answer, string? reasoning) =>
        context.Task.TryNormalizeAnswer(answer, query.Options, out string normalized, out string? invalid)
            ? OutputValidation<(string, string?)>.Valid((normalized, reasoning?.Trim()))
            : OutputValidation<(string, string?)>.Invalid($"\"answer\" is not valid: {invalid}");

    private static Dictionary<string, IReadOnlyList<string?>>? AnswerEnum(MethodContext context, EvaluationQuery query) =>
        context.Task.GetAnswerValues(query.Options) is { Count: > 0 } values ? new() { ["answer"] = [.. values] } : null;
}
