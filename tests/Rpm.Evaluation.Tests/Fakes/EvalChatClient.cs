using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Rpm.Tests.Fakes;

namespace Rpm.Evaluation.Tests.Fakes;

/// <summary>
/// A hand-written chat model for the harness: answers the baselines' prompts (by schema name) with valid answers taken
/// from the prompt, answers RPM's stages with Rpm.Core.Tests' fake, and records every request.
/// </summary>
public sealed partial class EvalChatClient : IChatClient
{
    private readonly ConcurrentQueue<EvalRequest> _requests = new();

    public string ModelId { get; init; } = "fake-model";

    /// <summary>Token usage reported per call; null reports none.</summary>
    public UsageDetails? Usage { get; set; } = new() { InputTokenCount = 100, OutputTokenCount = 20 };

    /// <summary>Optional override of the answer text (null: answer normally).</summary>
    public Func<EvalRequest, string?>? Respond { get; set; }

    /// <summary>Called before answering (e.g. to cancel a run after N calls).</summary>
    public Action<EvalRequest>? OnCall { get; set; }

    public IReadOnlyList<EvalRequest> Requests => [.. _requests];

    public int CallCount => _requests.Count;

    public IReadOnlyList<EvalRequest> WithSchema(string schema) => [.. _requests.Where(r => r.SchemaName == schema)];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<ChatMessage> list = [.. messages];
        var request = new EvalRequest(list, options);
        _requests.Enqueue(request);
        OnCall?.Invoke(request);
        cancellationToken.ThrowIfCancellationRequested();
        string text = Respond?.Invoke(request) ?? Answer(request);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { ModelId = ModelId, Usage = Usage });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("fake", null, ModelId) : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    public static string Answer(EvalRequest request)
    {
        if (request.SchemaName == Rpm.Cli.EndpointProbe.PreflightSchemaName)
        {
            return """{"answer": "ok"}""";
        }

        if (request.SchemaName?.StartsWith("rpm_", StringComparison.Ordinal) == true)
        {
            int attempt = 1 + request.Messages.Count(m => m.Role == ChatRole.Assistant);
            return FakeChatClient.Answer(new FakeRequest(request.Messages, request.Options, attempt));
        }

        string answer = DefaultAnswer(request);
        return request.SchemaName switch
        {
            "baseline_profile_summary" => JsonSerializer.Serialize(new Dictionary<string, string> { ["summary"] = $"FAKE SUMMARY of {request.Data["history"]!.AsArray().Count} items." }),
            "fermi_prompts" => FermiPrompts(request),
            "baseline_cot_answer" => JsonSerializer.Serialize(new Dictionary<string, string> { ["reasoning"] = "FAKE REASONING: the user's past answers point this way.", ["answer"] = answer }),
            _ => JsonSerializer.Serialize(new Dictionary<string, string> { ["answer"] = answer }),
        };
    }

    /// <summary>The most frequent example answer when examples are given; else the first label, the scale's top, the first option, or a text.</summary>
    public static string DefaultAnswer(EvalRequest request)
    {
        if (request.Data["examples"] is JsonArray { Count: > 0 } examples)
        {
            return examples.Select(e => e!["userAnswer"]!.GetValue<string>()).GroupBy(a => a).OrderByDescending(g => g.Count()).First().Key;
        }

        if (request.Data["options"] is JsonArray { Count: > 0 } options)
        {
            return options[0]!.GetValue<string>();
        }

        Match labels = LabelsRegex().Match(request.System);
        if (labels.Success)
        {
            return labels.Groups[1].Value.Split(',')[0].Trim();
        }

        Match scale = ScaleRegex().Match(request.System);
        return scale.Success ? scale.Groups[1].Value : "A fake title";
    }

    /// <summary>Fermi's optimizer: as many prompts as asked for, named after the memory they improve on (so that a new memory gives new prompts).</summary>
    public static string FermiPrompts(EvalRequest request)
    {
        int count = int.Parse(PromptCountRegex().Match(request.System).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        JsonArray memory = request.Data["memory"]!.AsArray();
        string version = $"m{memory.Count}.{memory.ToJsonString().Aggregate(17u, (h, c) => unchecked((h * 31) + c)) % 10000}";
        return JsonSerializer.Serialize(new Dictionary<string, string[]>
        {
            ["prompts"] = [.. Enumerable.Range(1, count).Select(i => $"FAKE PROMPT {version} #{i}: this user answers as the examples show.")],
        });
    }

    [GeneratedRegex(@"holding exactly ([0-9]+) prompt")]
    private static partial Regex PromptCountRegex();

    [GeneratedRegex(@"one of these labels: ([^.]+)\.")]
    private static partial Regex LabelsRegex();

    [GeneratedRegex(@"a number from [0-9.]+ to ([0-9.]+)")]
    private static partial Regex ScaleRegex();
}

/// <summary>One request the fake received.</summary>
public sealed class EvalRequest
{
    public EvalRequest(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        Messages = messages;
        Options = options;
        SchemaName = (options?.ResponseFormat as ChatResponseFormatJson)?.SchemaName;
        System = string.Join("\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        string user = messages.First(m => m.Role == ChatRole.User).Text;
        int start = user.IndexOf("<data>", StringComparison.Ordinal);
        int end = user.LastIndexOf("</data>", StringComparison.Ordinal);
        Data = start >= 0 && end > start ? JsonNode.Parse(user[(start + 6)..end])!.AsObject() : [];
    }

    public IReadOnlyList<ChatMessage> Messages { get; }

    public ChatOptions? Options { get; }

    public string? SchemaName { get; }

    public string System { get; }

    public JsonObject Data { get; }

    public string AllText => string.Join("\n", Messages.Select(m => m.Text));
}
