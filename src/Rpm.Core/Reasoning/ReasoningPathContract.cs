using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Stage 4 (rpm-method.md): the reasoning that leads from the user's factors and statistics, through an item's features,
/// to the answer the user actually gave, three to six sentences citing the statistics. One item per call as in the
/// paper, or several sharing one copy of the statistics (<see cref="RpmOptions.ReasoningBatchSize"/>).
/// </summary>
internal sealed class ReasoningPathContract : StageContract<ReasoningOutput, string>
{
    private readonly ReasoningPathRequest _request;
    private readonly TextBudget _budget;
    private readonly ReasoningGrounding _grounding;

    public ReasoningPathContract(ReasoningPathRequest request, TextBudget budget)
    {
        _request = request;
        _budget = budget;
        _grounding = Grounding(request);
    }

    public override RpmStage Stage => RpmStage.ReasoningPath;

    public override string ItemId => _request.Item.Id;

    public override JsonTypeInfo<ReasoningOutput> ReplyType => RpmJsonContext.Default.ReasoningOutput;

    // The reasoning is free text; its citations name the user's factors, the statistics shown and (labelled tasks) the answers.
    public override IReadOnlyDictionary<string, IReadOnlyList<string?>>? Enums => _grounding.Enums("citations[]");

    public override IReadOnlyList<ChatMessage> WritePrompt() => Prompt([_request], _budget);

    public override void EditSchema(JsonObject schema) => _grounding.EditCitationSchema(schema);

    // Grounding (our addition to the paper): an ungrounded path gets the repair turn with what was wrong; on the last
    // attempt it is kept and counted (BuildDiagnostics.UngroundedPaths), never silently accepted.
    public override OutputValidation<string> Validate(ReasoningOutput reply, OutputValidationContext context) =>
        string.IsNullOrWhiteSpace(reply.Reasoning)
            ? OutputValidation<string>.Invalid("\"reasoning\" must not be empty.")
            : _grounding.Judge(reply.Reasoning.Trim(), reply.Citations, context);

    /// <summary>The grounding check of a call: the statistics exactly as its prompt shows them.</summary>
    internal static ReasoningGrounding Grounding(ReasoningPathRequest request) =>
        ReasoningGrounding.Of(RpmPrompts.StatisticsNode(request.Task, request.Statistics));

    /// <summary>The prompt, for one request or a batch of requests sharing a task and statistics.</summary>
    internal static IReadOnlyList<ChatMessage> Prompt(IReadOnlyList<ReasoningPathRequest> requests, TextBudget budget)
    {
        ReasoningPathRequest first = requests[0];
        RpmTask task = first.Task;
        bool batch = requests.Count > 1;
        var system = new List<string>
        {
            "You explain how one particular user reasons.",
            PromptRules.TaskLine(task),
            batch
                ? "The data holds several past inputs of this user (\"items\"), each with its features (tagged with the user's factors) and the answer the user actually gave (\"userAnswer\"), " +
                  "and the statistics of the user's factors over the whole history (\"factors\")."
                : "The data holds one past input of this user, its features (each tagged with one of the user's factors), the statistics of the user's factors over the whole history, " +
                  "and the answer the user actually gave (\"userAnswer\").",
            $"Write{(batch ? ", for each item on its own," : string.Empty)} the reasoning, in three to six sentences, that leads from this user's factors and statistics, through the features of this input, to the user's actual answer. " +
            "Cite the relevant statistics by number. Use only the features and statistics given: do not invent facts about the input.",
            ReasoningGrounding.CitationRule(task, "reasoning"),
        };
        system.AddRange(PromptRules.StatisticsRules(task));
        system.Add(PromptRules.DataRule);
        system.Add(batch
            ? "Reply with one JSON object with one entry per item, in the order given: {\"items\": [{\"itemId\": ..., \"reasoning\": \"...\", \"citations\": [...]}]}."
            : "Reply with one JSON object: {\"reasoning\": \"...\", \"citations\": [...]}.");

        // The user's statistics (the same in every reasoning call of the build) before the items.
        var data = new JsonObject { ["factors"] = RpmPrompts.StatisticsNode(task, first.Statistics) };
        StagePrompt.AddItems(data, requests, (item, request) =>
        {
            item["itemId"] = request.Item.Id;
            item["input"] = budget.Fit(request.Item.Input);
            PromptRules.AddOptions(item, task, request.Item.Options);
            item["features"] = RpmPrompts.FeaturesNode(request.Features);
            item["userAnswer"] = budget.Fit(request.Item.Output);
        });
        return PromptRules.Messages(system, data);
    }
}

/// <summary>Several items' reasoning in one call: <c>{"items": [{"itemId": ..., "reasoning": "..."}]}</c>.</summary>
internal sealed class ReasoningBatchContract : ItemBatchContract<ReasoningPathRequest, ReasoningBatchOutput, ReasoningBatchItemOutput, string>
{
    private readonly TextBudget _budget;

    private readonly ReasoningGrounding _grounding;

    public ReasoningBatchContract(IReadOnlyList<ReasoningPathRequest> requests, TextBudget budget)
        : base(requests)
    {
        _budget = budget;

        // The items of a batch share one copy of the statistics (ReasoningPathBuilder.BuildBatchAsync checks it).
        _grounding = ReasoningPathContract.Grounding(requests[0]);
    }

    public override RpmStage Stage => RpmStage.ReasoningPath;

    public override JsonTypeInfo<ReasoningBatchOutput> ReplyType => RpmJsonContext.Default.ReasoningBatchOutput;

    protected override string MissingItemsRule => "\"items\" must have a non-empty reasoning for every item";

    public override IReadOnlyDictionary<string, IReadOnlyList<string?>>? Enums => _grounding.Enums("items[].citations[]");

    public override IReadOnlyList<ChatMessage> WritePrompt() => ReasoningPathContract.Prompt(Requests, _budget);

    // Every item's grounding problems in one repair turn (the base stops at the first invalid item); on the last
    // attempt the ungrounded items are kept and counted.
    public override OutputValidation<IReadOnlyList<string>> Validate(ReasoningBatchOutput reply, OutputValidationContext context)
    {
        OutputValidation<IReadOnlyList<string>> result = base.Validate(reply, context);
        if (!result.IsValid || context.IsLastAttempt || result.Diagnostics.UngroundedPaths == 0)
        {
            return result;
        }

        var problems = new List<string>();
        foreach (ReasoningPathRequest request in Requests)
        {
            ReasoningBatchItemOutput item = reply.Items.First(i => i is not null && i.ItemId?.Trim() == request.Item.Id && IsAnswered(i));
            problems.AddRange(_grounding.Check(item.Reasoning.Trim(), item.Citations).Select(p => $"item '{request.Item.Id}': {p}"));
        }

        return OutputValidation<IReadOnlyList<string>>.Invalid(_grounding.Hint(problems));
    }

    protected override void EditItemSchema(JsonObject schema, params string[] itemPath) =>
        _grounding.EditCitationSchema(schema, itemPath);

    protected override string IdOf(ReasoningPathRequest request) => request.Item.Id;

    protected override IEnumerable<ReasoningBatchItemOutput>? ItemsOf(ReasoningBatchOutput reply) => reply.Items;

    protected override string? ItemIdOf(ReasoningBatchItemOutput item) => item.ItemId;

    protected override bool IsAnswered(ReasoningBatchItemOutput item) => !string.IsNullOrWhiteSpace(item.Reasoning);

    // Counted here as if on the last attempt; Validate turns the count into a repair turn when one follows.
    protected override OutputValidation<string> ValidateItem(ReasoningBatchItemOutput item, ReasoningPathRequest request, OutputValidationContext context) =>
        _grounding.Judge(item.Reasoning.Trim(), item.Citations, context with { Attempt = context.MaxAttempts });
}

// The replies; their type names are the schemas' names (rpm_reasoning, rpm_reasoningbatch).

internal sealed class ReasoningOutput
{
    [JsonPropertyName("reasoning")]
    public required string Reasoning { get; set; }

    // Required by the schema (the engine asks again when it is missing), optional here so that a reply without it still reads.
    [JsonPropertyName("citations")]
    public List<ReasoningCitation>? Citations { get; set; }
}

/// <summary>One statistic a reasoning path cites; its factor, statistic and answer are enums of the call's schema.</summary>
internal sealed class ReasoningCitation
{
    [JsonPropertyName("factor")]
    public required string Factor { get; set; }

    [JsonPropertyName("statistic")]
    public required string Statistic { get; set; }

    [JsonPropertyName("answer")]
    public string? Answer { get; set; }

    [JsonPropertyName("value")]
    public required double Value { get; set; }
}

internal sealed class ReasoningBatchOutput
{
    [JsonPropertyName("items")]
    public required List<ReasoningBatchItemOutput> Items { get; set; }
}

internal sealed class ReasoningBatchItemOutput
{
    [JsonPropertyName("itemId")]
    public required string ItemId { get; set; }

    [JsonPropertyName("reasoning")]
    public required string Reasoning { get; set; }

    [JsonPropertyName("citations")]
    public List<ReasoningCitation>? Citations { get; set; }
}
