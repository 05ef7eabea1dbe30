using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Rpm;

/// <summary>
/// Finds the JSON objects in a model's answer text, wherever they sit: in a code fence, after a reasoning block (which
/// may itself contain braces), after an echoed copy of the schema, before trailing prose. Real endpoints produce all
/// of these (reasoning models through Ollama, vLLM, llama.cpp and LM Studio; JSON mode that only asks politely).
/// </summary>
internal static partial class JsonCandidates
{
    // A model answer longer than this is not scanned further; no stage asks for anything near it.
    private const int MaxScannedCharacters = 1 << 20;

    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

    /// <summary>Splits an answer into the text meant as the answer and the text of reasoning blocks.</summary>
    /// <param name="text">The answer text.</param>
    /// <returns>The answer part, the reasoning part, and whether a reasoning block was left open (cut off).</returns>
    public static (string Answer, string Reasoning, bool UnclosedReasoning) SplitReasoning(string text)
    {
        // gpt-oss's harmony format leaks through some servers: only the final channel is the answer.
        int final = text.LastIndexOf("<|channel|>final<|message|>", StringComparison.Ordinal);
        if (final >= 0)
        {
            return (text[(final + "<|channel|>final<|message|>".Length)..], text[..final], false);
        }

        var reasoning = new System.Text.StringBuilder();
        string answer = ReasoningBlockRegex().Replace(text, m =>
        {
            reasoning.Append(m.Groups["body"].Value).Append('\n');
            return " ";
        });

        // A closing tag without an opening one: the chat template opened the block (DeepSeek-R1 and Qwen3 templates do).
        Match orphan = OrphanCloseRegex().Match(answer);
        if (orphan.Success && !OpenTagRegex().IsMatch(answer[..orphan.Index]))
        {
            reasoning.Append(answer, 0, orphan.Index).Append('\n');
            answer = answer[(orphan.Index + orphan.Length)..];
        }

        // An opening tag never closed: the model ran out of tokens while reasoning.
        Match open = OpenTagRegex().Match(answer);
        if (open.Success)
        {
            reasoning.Append(answer, open.Index + open.Length, answer.Length - open.Index - open.Length);
            return (answer[..open.Index], reasoning.ToString(), true);
        }

        return (answer, reasoning.ToString(), false);
    }

    /// <summary>Finds every complete top-level JSON object in <paramref name="text"/>, in order of appearance.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cutOff">Set when an object starts but never closes before the end of the text (a truncated answer).</param>
    /// <returns>The parsed objects.</returns>
    public static List<JsonObject> FindObjects(string text, out bool cutOff)
    {
        cutOff = false;
        var found = new List<JsonObject>();
        if (text.Length > MaxScannedCharacters)
        {
            text = text[..MaxScannedCharacters];
        }

        int i = 0;
        while (i < text.Length)
        {
            int start = text.IndexOf('{', i);
            if (start < 0)
            {
                break;
            }

            int end = MatchBrace(text, start);
            if (end < 0)
            {
                // Unclosed to the end: remember it, and still look for complete objects inside it.
                cutOff = true;
                i = start + 1;
                continue;
            }

            if (TryParseObject(text.AsSpan(start, end - start + 1), out JsonObject? parsed))
            {
                found.Add(parsed);
                i = end + 1;
            }
            else
            {
                i = start + 1;
            }
        }

        return found;
    }

    /// <summary>Strips code fences and surrounding quotes from a plain-text answer.</summary>
    /// <param name="text">The answer part of a model answer.</param>
    /// <returns>The bare text.</returns>
    public static string BareText(string text)
    {
        string trimmed = text.Trim();
        Match fence = FenceRegex().Match(trimmed);
        if (fence.Success)
        {
            trimmed = fence.Groups["body"].Value.Trim();
        }

        if (trimmed.Length >= 2 && trimmed[0] == '"' && trimmed[^1] == '"')
        {
            trimmed = trimmed[1..^1].Trim();
        }

        return trimmed;
    }

    // Returns the index of the brace that closes the object opened at start, or -1; braces inside JSON strings do not count.
    private static int MatchBrace(string text, int start)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{':
                    depth++;
                    break;
                case '}':
                    if (--depth == 0)
                    {
                        return i;
                    }

                    break;
            }
        }

        return -1;
    }

    private static bool TryParseObject(ReadOnlySpan<char> json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JsonObject? parsed)
    {
        parsed = null;
        try
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(json.ToArray());
            using JsonDocument document = JsonDocument.Parse(utf8, DocumentOptions);
            parsed = document.RootElement.ValueKind == JsonValueKind.Object ? (JsonObject)ToNode(document.RootElement)! : null;
            return parsed is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Built by hand rather than by JsonNode.Parse, whose objects throw on a repeated key when first read: models do
    // repeat keys, and the last value wins, as in JavaScript.
    private static JsonNode? ToNode(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject(NodeOptions);
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    obj[property.Name] = ToNode(property.Value);
                }

                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray(NodeOptions);
                foreach (JsonElement item in element.EnumerateArray())
                {
                    array.Add(ToNode(item));
                }

                return array;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }

    [GeneratedRegex(@"<(?<tag>think|thinking|reasoning|reflection|thought)>(?<body>.*?)</\k<tag>>|◁think▷(?<body>.*?)◁/think▷", RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReasoningBlockRegex();

    [GeneratedRegex(@"</(think|thinking|reasoning|reflection|thought)>|◁/think▷", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OrphanCloseRegex();

    [GeneratedRegex(@"<(think|thinking|reasoning|reflection|thought)>|◁think▷", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OpenTagRegex();

    [GeneratedRegex(@"^```[A-Za-z0-9_-]*\s*\n?(?<body>.*?)\n?```", RegexOptions.Singleline)]
    private static partial Regex FenceRegex();
}
