using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Rpm.Evaluation;

/// <summary>Sends a baseline prompt, reads the JSON answer and validates it against the task, retrying once with the error (as RPM does).</summary>
internal static class BaselineChat
{
    public const int MaxAttempts = 2;

    public static async Task<MethodAnswer> AnswerAsync(MethodContext context, List<ChatMessage> messages, bool chainOfThought, EvaluationQuery query, IReadOnlyList<ExplainedExample> examples, CancellationToken cancellationToken)
    {
        IChatClient client = context.RequireChatClient();
        var conversation = new List<ChatMessage>(messages);
        ChatResponseFormatJson format = chainOfThought ? BaselinePrompts.CotAnswerFormat : BaselinePrompts.AnswerFormat;
        AddSchemaToPrompt(context, conversation, format);
        string raw = string.Empty, answer = string.Empty, error = string.Empty;
        string? reasoning = null;
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            ChatOptions options = context.ChatOptions?.Clone() ?? new ChatOptions();
            options.ResponseFormat = context.UseJsonSchemaResponseFormat ? format : ChatResponseFormat.Json;
            ChatResponse response = await client.GetResponseAsync(conversation, options, cancellationToken).ConfigureAwait(false);
            raw = response.Messages.Count > 0 ? response.Messages[^1].Text : response.Text;
            if (TryRead(raw, "answer", out string? read, out error))
            {
                answer = read;
                reasoning = chainOfThought && TryRead(raw, "reasoning", out string? r, out _) ? r : null;
                if (context.Task.TryNormalizeAnswer(answer, query.Options, out string normalized, out string? invalid))
                {
                    return new MethodAnswer(normalized, true) { Rationale = reasoning, Examples = examples };
                }

                error = $"\"answer\" is not valid: {invalid}";
            }

            if (attempt < MaxAttempts)
            {
                conversation.Add(new ChatMessage(ChatRole.Assistant, raw));
                conversation.Add(new ChatMessage(ChatRole.User, $"That answer was not valid: {error} Reply again with only the corrected JSON object."));
            }
        }

        // Scored as LaMP scores it: outside the label set is wrong, an unparseable rating counts as the far end.
        return new MethodAnswer(answer.Length > 0 ? answer.Trim() : raw.Trim(), false) { Rationale = reasoning, Examples = examples, Error = error };
    }

    public static async Task<string> SummaryAsync(MethodContext context, List<ChatMessage> messages, CancellationToken cancellationToken)
    {
        IChatClient client = context.RequireChatClient();
        ChatOptions options = context.ChatOptions?.Clone() ?? new ChatOptions();
        options.ResponseFormat = context.UseJsonSchemaResponseFormat ? BaselinePrompts.SummaryFormat : ChatResponseFormat.Json;
        var conversation = new List<ChatMessage>(messages);
        AddSchemaToPrompt(context, conversation, BaselinePrompts.SummaryFormat);
        ChatResponse response = await client.GetResponseAsync(conversation, options, cancellationToken).ConfigureAwait(false);
        string raw = response.Messages.Count > 0 ? response.Messages[^1].Text : response.Text;

        // A summary that is not JSON is still a summary: keep the text rather than fail the user.
        return TryRead(raw, "summary", out string? summary, out _) ? summary : raw.Trim();
    }

    private static void AddSchemaToPrompt(MethodContext context, List<ChatMessage> conversation, ChatResponseFormatJson format)
    {
        if (!context.UseJsonSchemaResponseFormat)
        {
            conversation.Add(new ChatMessage(ChatRole.User, $"Respond with a JSON value conforming to the following schema:\n{format.Schema}"));
        }
    }

    /// <summary>Reads a string property of the JSON object in a model answer, tolerating code fences and text around it.</summary>
    public static bool TryRead(string? raw, string property, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value, out string error)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            error = "The answer was empty; a JSON object was expected.";
            return false;
        }

        int start = raw.IndexOf('{', StringComparison.Ordinal);
        int end = raw.LastIndexOf('}');
        if (start < 0 || end < start)
        {
            error = "The answer contained no JSON object.";
            return false;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(raw.AsMemory(start, end - start + 1));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(property, out JsonElement element)
                && JsonFiles.Text(element) is string text)
            {
                value = text;
                error = string.Empty;
                return true;
            }

            error = $"The JSON object has no string \"{property}\".";
            return false;
        }
        catch (JsonException ex)
        {
            error = $"The answer was not valid JSON: {ex.Message}";
            return false;
        }
    }
}
