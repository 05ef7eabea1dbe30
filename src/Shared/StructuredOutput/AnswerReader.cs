using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Reads a model's answer: candidate JSON objects outside reasoning blocks first (the latest first), then inside them,
/// then in the reasoning field when the text is empty; each coerced to the schema and validated; the first that passes
/// wins. Says why when none does: invalid, cut off, or empty (and where its text went).
/// </summary>
internal static class AnswerReader
{
    public static ReadResult<TResult> Read<T, TResult>(ChatResponse response, string raw, IOutputContract<T, TResult> request, JsonElement schema, OutputValidationContext context)
        where T : class
    {
        var (answer, inlineReasoning, unclosed) = JsonCandidates.SplitReasoning(raw);
        string reasoningField = string.Concat(response.Messages.Count > 0
            ? response.Messages[^1].Contents.OfType<TextReasoningContent>().Select(r => r.Text)
            : []);

        // Outside the reasoning first, the latest first (an echoed schema or a draft comes before the answer).
        var candidates = new List<(JsonObject Node, bool FromReasoning)>();
        List<JsonObject> outside = JsonCandidates.FindObjects(answer, out bool cutOff);
        candidates.AddRange(Enumerable.Reverse(outside).Select(o => (o, false)));
        candidates.AddRange(Enumerable.Reverse(JsonCandidates.FindObjects(inlineReasoning, out _)).Select(o => (o, true)));
        if (string.IsNullOrWhiteSpace(answer))
        {
            candidates.AddRange(Enumerable.Reverse(JsonCandidates.FindObjects(reasoningField, out _)).Select(o => (o, true)));
        }

        // A plain-text answer to a one-string schema ({"answer": ...} or {"summary": ...}) is that string.
        if (outside.Count == 0 && !cutOff && !unclosed && SingleStringProperty(schema) is string property && JsonCandidates.BareText(answer) is { Length: > 0 } bare)
        {
            candidates.Add((new JsonObject { [property] = bare }, false));
        }

        string? firstError = null;
        foreach (var (node, fromReasoning) in candidates)
        {
            JsonNode? coerced = SchemaCoercion.Coerce(node, schema, out string? missing);
            string? error = missing;
            T? parsed = null;
            if (error is null)
            {
                try
                {
                    parsed = coerced.Deserialize(request.ReplyType);
                    error = parsed is null ? "The answer was JSON null; a JSON object was expected." : null;
                }
                catch (JsonException ex)
                {
                    error = ex.Path is { Length: > 1 } where
                        ? $"The value at {where} has the wrong JSON type for the schema."
                        : "The answer's JSON does not fit the schema.";
                }
            }

            if (parsed is not null)
            {
                OutputValidation<TResult> validation;
                try
                {
                    validation = request.Validate(parsed, context);
                }
                catch (ArgumentException ex)
                {
                    // Constructors of the public types reject blank names and the like.
                    validation = OutputValidation<TResult>.Invalid(ex.Message);
                }

                if (validation.IsValid)
                {
                    return new ReadResult<TResult>(validation, fromReasoning, string.Empty, ModelOutputFailure.InvalidOutput);
                }

                error = validation.Error;
            }

            firstError ??= error;
        }

        if (firstError is not null)
        {
            return new ReadResult<TResult>(null, false, firstError, ModelOutputFailure.InvalidOutput);
        }

        if (string.IsNullOrWhiteSpace(raw))
        {
            int reasoningLength = reasoningField.Length + inlineReasoning.Length;
            return new ReadResult<TResult>(null, false, reasoningLength > 0
                ? string.Create(CultureInfo.InvariantCulture, $"The answer text was empty; the model wrote {reasoningLength} characters to its reasoning field instead (a reasoning parser or a thinking model moved the answer there). Turn the model's reasoning off or raise its output token limit.")
                : "The answer was empty; a JSON object was expected.", ModelOutputFailure.Empty);
        }

        if (unclosed)
        {
            return new ReadResult<TResult>(null, false, "The answer ended inside an unclosed reasoning block: the model ran out of output tokens while reasoning.", ModelOutputFailure.Truncated);
        }

        return cutOff
            ? new ReadResult<TResult>(null, false, "The JSON object was cut off before it closed.", ModelOutputFailure.Truncated)
            : new ReadResult<TResult>(null, false, "The answer contained no JSON object.", ModelOutputFailure.InvalidOutput);
    }

    private static string? SingleStringProperty(JsonElement schema)
    {
        if (schema.TryGetProperty("properties", out JsonElement properties) && properties.ValueKind == JsonValueKind.Object)
        {
            var all = properties.EnumerateObject().ToList();
            if (all.Count == 1 && all[0].Value.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "string"
                && !all[0].Value.TryGetProperty("enum", out _))
            {
                return all[0].Name;
            }
        }

        return null;
    }
}

/// <summary>What reading an answer found: a valid result, or why there is none.</summary>
internal readonly record struct ReadResult<TResult>(OutputValidation<TResult>? Value, bool FromReasoning, string Error, ModelOutputFailure Failure);
