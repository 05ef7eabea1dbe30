using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Rpm.Tests.Fakes;

/// <summary>One request the fake chat client received.</summary>
public sealed class FakeRequest
{
    public FakeRequest(IReadOnlyList<ChatMessage> messages, ChatOptions? options, int attempt)
    {
        Messages = messages;
        Options = options;
        Attempt = attempt;
        SchemaName = (options?.ResponseFormat as ChatResponseFormatJson)?.SchemaName;
        System = string.Join("\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        string user = messages.First(m => m.Role == ChatRole.User).Text;
        int start = user.IndexOf("<data>", StringComparison.Ordinal);
        int end = user.LastIndexOf("</data>", StringComparison.Ordinal);
        DataText = start >= 0 && end > start ? user[(start + 6)..end] : user;
        Data = start >= 0 && end > start ? JsonNode.Parse(DataText)!.AsObject() : [];
        Stage = SchemaName switch
        {
            "rpm_featurelist" or "rpm_featurebatch" => Data.ContainsKey("factors") ? RpmStage.QueryFeatureExtraction : RpmStage.FeatureExtraction,
            "rpm_factorlist" => RpmStage.FactorConstruction,
            "rpm_reasoning" or "rpm_reasoningbatch" => RpmStage.ReasoningPath,
            "rpm_answer" => RpmStage.Generation,
            "rpm_influencebatch" => RpmStage.InfluenceJudgment,
            _ => GuessStage(),
        };
    }

    public IReadOnlyList<ChatMessage> Messages { get; }

    public ChatOptions? Options { get; }

    /// <summary>1 for a first request, 2 for its retry (the conversation carries the earlier answer).</summary>
    public int Attempt { get; }

    public string? SchemaName { get; }

    public string System { get; }

    /// <summary>The JSON text between the data markers of the first user message.</summary>
    public string DataText { get; }

    public JsonObject Data { get; }

    public RpmStage Stage { get; }

    /// <summary>The whole prompt, every message, as one text.</summary>
    public string AllText => string.Join("\n", Messages.Select(m => m.Text));

    public string? ItemId => Data["itemId"]?.GetValue<string>();

    /// <summary>True for a request that carries several items ("items" in the data).</summary>
    public bool IsBatch => Data.ContainsKey("items") && Stage is RpmStage.FeatureExtraction or RpmStage.QueryFeatureExtraction or RpmStage.ReasoningPath;

    /// <summary>The item ids of a batched request, or the single item id.</summary>
    public IReadOnlyList<string> ItemIds => IsBatch
        ? [.. Data["items"]!.AsArray().Select(i => i!["itemId"]!.GetValue<string>())]
        : ItemId is null ? [] : [ItemId];

    private RpmStage GuessStage()
    {
        // Without a schema in ResponseFormat (prompt-embedded schema mode), read the schema text.
        string all = AllText;
        return all.Contains("\"judgments\"", StringComparison.Ordinal) ? RpmStage.InfluenceJudgment
            : all.Contains("\"rationale\"", StringComparison.Ordinal) ? RpmStage.Generation
            : all.Contains("\"reasoning\"", StringComparison.Ordinal) ? RpmStage.ReasoningPath
            : all.Contains("\"factors\": [{", StringComparison.Ordinal) ? RpmStage.FactorConstruction
            : Data.ContainsKey("factors") ? RpmStage.QueryFeatureExtraction
            : RpmStage.FeatureExtraction;
    }
}
