using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Rpm.Tests.Fakes;

/// <summary>
/// A hand-written chat model for tests. It answers every RPM stage like a model would, with valid structured
/// output derived from the prompt's data, and records every request. Tests can replace answers
/// (<see cref="Respond"/>), make calls fail (<see cref="Fail"/>) or block (<see cref="Gate"/>).
/// </summary>
public sealed partial class FakeChatClient : IChatClient
{
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private int _inFlight;
    private int _maxInFlight;

    public FakeChatClient(string modelId = "fake-model")
    {
        ModelId = modelId;
    }

    public string ModelId { get; }

    /// <summary>Optional override: return a raw answer text, or null to answer normally.</summary>
    public Func<FakeRequest, string?>? Respond { get; set; }

    /// <summary>Optional failure: return an exception to throw for this request, or null.</summary>
    public Func<FakeRequest, Exception?>? Fail { get; set; }

    /// <summary>Optional gate awaited before answering (to hold calls in flight).</summary>
    public Func<FakeRequest, CancellationToken, Task>? Gate { get; set; }

    /// <summary>
    /// A reasoning path that is not grounded (a wrong value, a factor the user does not have), on the first attempt or on
    /// every attempt (<see cref="MistakeAfterRepair"/>); <see cref="ReasoningMistake.None"/> answers as a careful model.
    /// </summary>
    public ReasoningMistake Mistake { get; set; }

    /// <summary>A rationale (stage 7) that is not grounded, on the first attempt or on every attempt (<see cref="MistakeAfterRepair"/>).</summary>
    public ReasoningMistake RationaleMistake { get; set; }

    /// <summary>Whether the repair turn repeats <see cref="Mistake"/> or <see cref="RationaleMistake"/> (so that the answer stays ungrounded).</summary>
    public bool MistakeAfterRepair { get; set; }

    /// <summary>Token usage reported per call; null reports none.</summary>
    public UsageDetails? Usage { get; set; } = new() { InputTokenCount = 100, OutputTokenCount = 20 };

    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int CallCount => _requests.Count;

    public IReadOnlyList<FakeRequest> For(RpmStage stage) => [.. _requests.Where(r => r.Stage == stage)];

    public void Reset()
    {
        _requests.Clear();
        Volatile.Write(ref _maxInFlight, 0);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        List<ChatMessage> list = [.. messages];
        int attempt = 1 + list.Count(m => m.Role == ChatRole.Assistant);
        var request = new FakeRequest(list, options, attempt);
        _requests.Enqueue(request);
        int now = Interlocked.Increment(ref _inFlight);
        int seen;
        while ((seen = Volatile.Read(ref _maxInFlight)) < now && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Gate is not null)
            {
                await Gate(request, cancellationToken);
            }

            if (Fail?.Invoke(request) is Exception failure)
            {
                throw failure;
            }

            ReasoningMistake mistake = request.Stage switch
            {
                RpmStage.ReasoningPath => Mistake,
                RpmStage.Generation => RationaleMistake,
                _ => ReasoningMistake.None,
            };
            string text = Respond?.Invoke(request)
                ?? (mistake != ReasoningMistake.None && (request.Attempt == 1 || MistakeAfterRepair)
                    ? Answer(request, mistake)
                    : Answer(request));
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { ModelId = ModelId, Usage = Usage };
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("RPM does not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("fake", null, ModelId)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    /// <summary>The answer a reasonable model would give for the request.</summary>
    public static string Answer(FakeRequest request) => Answer(request, ReasoningMistake.None);

    /// <summary>The answer for the request, with a reasoning path that makes <paramref name="mistake"/>.</summary>
    public static string Answer(FakeRequest request, ReasoningMistake mistake) => request.IsBatch ? BatchAnswer(request, mistake) : request.Stage switch
    {
        RpmStage.FeatureExtraction or RpmStage.QueryFeatureExtraction => Features(request),
        RpmStage.FactorConstruction => Factors(request),
        RpmStage.ReasoningPath => Reasoning(request.Data, mistake),
        RpmStage.InfluenceJudgment => Judgments(request),
        _ => Generation(request, mistake),
    };

    // Movie inputs ("Title (1999). Genres: A, B.") give one feature per genre plus the era; other inputs give
    // their three longest words. Suggested categories group genres the way a model plausibly would.
    private static readonly Dictionary<string, string> GenreFactor = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Action"] = "Excitement", ["Adventure"] = "Excitement", ["Thriller"] = "Excitement", ["War"] = "Excitement", ["Western"] = "Excitement",
        ["Comedy"] = "Lightness", ["Romance"] = "Lightness", ["Children"] = "Lightness", ["Animation"] = "Lightness", ["Musical"] = "Lightness",
        ["Drama"] = "Seriousness", ["Crime"] = "Seriousness", ["Mystery"] = "Seriousness", ["Documentary"] = "Seriousness", ["Film-Noir"] = "Seriousness",
        ["Sci-Fi"] = "Imagination", ["Fantasy"] = "Imagination", ["Horror"] = "Imagination", ["IMAX"] = "Imagination",
    };

    public static List<(string Name, string Context, string Category)> FeaturesOf(string input)
    {
        var result = new List<(string, string, string)>();
        Match genres = GenresRegex().Match(input);
        if (genres.Success)
        {
            foreach (string genre in genres.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string g = genre.TrimEnd('.');
                result.Add((g + " genre", $"the movie is labelled {g}", GenreFactor.GetValueOrDefault(g, "Other genres")));
            }

            Match year = YearRegex().Match(input);
            if (year.Success)
            {
                int decade = int.Parse(year.Groups[1].Value, CultureInfo.InvariantCulture) / 10 * 10;
                result.Add(($"{decade}s release", $"released in {year.Groups[1].Value}", "Era"));
            }

            return result;
        }

        foreach (string word in WordRegex().Matches(input).Select(m => m.Value).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(w => w.Length).ThenBy(w => w, StringComparer.Ordinal).Take(3))
        {
            result.Add((Capitalize(word), $"the input mentions {word.ToLowerInvariant()}", word.Length > 7 ? "Substance" : "Style"));
        }

        if (result.Count == 0)
        {
            result.Add(("General content", "the input as a whole", "Style"));
        }

        return result;
    }

    // A batched request is answered item by item, as the single-item prompt would be.
    private static string BatchAnswer(FakeRequest request, ReasoningMistake mistake)
    {
        var items = new JsonArray();
        foreach (JsonNode? item in request.Data["items"]!.AsArray())
        {
            JsonObject one = item!.AsObject().DeepClone().AsObject();
            if (request.Data["factors"] is JsonNode factors)
            {
                one["factors"] = factors.DeepClone();
            }

            JsonObject answer = JsonNode.Parse(request.Stage == RpmStage.ReasoningPath ? Reasoning(one, mistake) : Features(one))!.AsObject();
            answer["itemId"] = one["itemId"]!.GetValue<string>();
            items.Add(answer);
        }

        return new JsonObject { ["items"] = items }.ToJsonString();
    }

    private static string Features(FakeRequest request) => Features(request.Data);

    private static string Features(JsonObject data)
    {
        string input = data["input"]?.GetValue<string>() ?? string.Empty;
        HashSet<string>? factors = data["factors"] is JsonArray list
            ? [.. list.Select(f => f!["factor"]!.GetValue<string>())]
            : null;
        var features = new JsonArray();
        foreach (var (name, context, category) in FeaturesOf(input))
        {
            var node = new JsonObject
            {
                ["name"] = name,
                ["context"] = context,
                ["factor"] = factors is null ? category : factors.Contains(category) ? category : null,
            };
            features.Add(node);
        }

        return new JsonObject { ["features"] = features }.ToJsonString();
    }

    // A feature shaped the user's text when the text contains the first word of its name.
    private static string Judgments(FakeRequest request)
    {
        var items = new JsonArray();
        foreach (JsonNode? item in request.Data["items"]!.AsArray())
        {
            string text = item!["userText"]!.GetValue<string>();
            var judgments = new JsonArray();
            foreach (JsonNode? feature in item["features"]!.AsArray())
            {
                string name = feature!["name"]!.GetValue<string>();
                bool influential = text.Contains(name.Split(' ')[0], StringComparison.OrdinalIgnoreCase);
                judgments.Add(new JsonObject { ["feature"] = name, ["influential"] = influential, ["polarity"] = influential ? "positive" : null });
            }

            items.Add(new JsonObject { ["itemId"] = item["itemId"]!.GetValue<string>(), ["judgments"] = judgments });
        }

        return new JsonObject { ["items"] = items }.ToJsonString();
    }

    private static string Factors(FakeRequest request)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (JsonNode? feature in request.Data["features"]!.AsArray())
        {
            string name = feature!["name"]!.GetValue<string>();
            string category = feature["suggestedFactors"]!.AsArray().FirstOrDefault()?.GetValue<string>() ?? "Other";
            if (!groups.TryGetValue(category, out var members))
            {
                groups[category] = members = [];
            }

            members.Add(name);
        }

        var factors = new JsonArray();
        foreach (var (category, members) in groups)
        {
            factors.Add(new JsonObject
            {
                ["name"] = category,
                ["description"] = $"How {category.ToLowerInvariant()} in an input shapes this user's answers.",
                ["features"] = new JsonArray([.. members.Select(m => JsonValue.Create(m))]),
            });
        }

        return new JsonObject { ["factors"] = factors }.ToJsonString();
    }

    private static string Reasoning(JsonObject data, ReasoningMistake mistake)
    {
        string answer = data["userAnswer"]!.GetValue<string>();
        var (evidence, citations) = Cite(data, data["features"]!.AsArray(), mistake);
        string reasoning = $"The input touches the user's {evidence}; weighing it the way this user does leads to the answer {answer}.";
        return new JsonObject { ["reasoning"] = reasoning + Invented(mistake), ["citations"] = citations }.ToJsonString();
    }

    // Cites the coverage of the first feature's factor, in the text and in "citations", as a grounded model would.
    private static (string Evidence, JsonArray Citations) Cite(JsonObject data, JsonArray features, ReasoningMistake mistake)
    {
        string factor = features.FirstOrDefault()?["factor"]?.GetValue<string>() ?? "unassigned";
        JsonObject? statistics = data["factors"]!.AsArray().Select(f => f!.AsObject()).FirstOrDefault(f => f["factor"]!.GetValue<string>() == factor);
        var citations = new JsonArray();
        string evidence = "no statistics";
        if (statistics is not null)
        {
            int coverage = statistics["coverage"]!.GetValue<int>() + (mistake == ReasoningMistake.WrongValue ? 7 : 0);
            evidence = $"coverage {coverage}";
            var citation = new JsonObject { ["factor"] = factor, ["statistic"] = "coverage", ["value"] = coverage };
            if (statistics.ContainsKey("propensity"))
            {
                citation["answer"] = null;
            }

            citations.Add(citation);
        }

        return ($"factor {factor} ({evidence})", citations);
    }

    private static string Invented(ReasoningMistake mistake) => mistake == ReasoningMistake.UnknownFactor ? " The Nostalgia factor weighs in too." : string.Empty;

    private static string Generation(FakeRequest request, ReasoningMistake mistake)
    {
        // Vote over the retrieved examples' answers (most similar first breaks ties); no examples: the first option the prompt names.
        var votes = request.Data["examples"]!.AsArray()
            .Select(e => e!["userAnswer"]!.GetValue<string>())
            .GroupBy(a => a, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key)
            .ToList();
        string answer = votes.FirstOrDefault() ?? request.Data["options"]?.AsArray().FirstOrDefault()?.GetValue<string>() ?? FirstAllowed(request.System);
        var (evidence, citations) = Cite(request.Data, request.Data["queryFeatures"]?.AsArray() ?? [], mistake);
        return new JsonObject
        {
            ["rationale"] = $"The most similar past items were answered {string.Join(", ", votes)}; the new input touches the user's {evidence}, and this user reasons the same way here." + Invented(mistake),
            ["citations"] = citations,
            ["answer"] = answer,
        }.ToJsonString();
    }

    private static string FirstAllowed(string system)
    {
        Match labels = LabelsRegex().Match(system);
        if (labels.Success)
        {
            return labels.Groups[1].Value.Split(',')[0].Trim();
        }

        Match number = FromRegex().Match(system);
        return number.Success ? number.Groups[1].Value : "an answer";
    }

    private static string Capitalize(string word) => char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant();

    [GeneratedRegex(@"Genres:\s*([^\n]+?)\.?\s*$", RegexOptions.Multiline)]
    private static partial Regex GenresRegex();

    [GeneratedRegex(@"\((\d{4})\)")]
    private static partial Regex YearRegex();

    [GeneratedRegex(@"[A-Za-z]{4,}")]
    private static partial Regex WordRegex();

    [GeneratedRegex(@"one of these labels: ([^.]+)\.")]
    private static partial Regex LabelsRegex();

    [GeneratedRegex(@"a number from ([0-9.]+)")]
    private static partial Regex FromRegex();
}

/// <summary>What an ungrounded reasoning path of <see cref="FakeChatClient"/> gets wrong.</summary>
public enum ReasoningMistake
{
    /// <summary>Nothing: every cited value is one shown.</summary>
    None,

    /// <summary>The coverage it cites (in the text and in "citations") is 7 more than the one shown.</summary>
    WrongValue,

    /// <summary>The text calls "Nostalgia" a factor, which the user does not have.</summary>
    UnknownFactor,
}
