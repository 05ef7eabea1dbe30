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

    public ReasoningPathContract(ReasoningPathRequest request, TextBudget budget)
    {
        _request = request;
        _budget = budget;
    }

    public override RpmStage Stage => RpmStage.ReasoningPath;

    public override string ItemId => _request.Item.Id;

    public override JsonTypeInfo<ReasoningOutput> ReplyType => RpmJsonContext.Default.ReasoningOutput;

    // The answer space of a one-item call is free text: the base schema as generated.
    public override bool EditsSchema => false;

    public override IReadOnlyList<ChatMessage> WritePrompt() => Prompt([_request], _budget);

    public override OutputValidation<string> Validate(ReasoningOutput reply, OutputValidationContext context) =>
        string.IsNullOrWhiteSpace(reply.Reasoning)
            ? OutputValidation<string>.Invalid("\"reasoning\" must not be empty.")
            : OutputValidation<string>.Valid(reply.Reasoning.Trim());

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
        };
        system.AddRange(PromptRules.StatisticsRules(task));
        system.Add(PromptRules.DataRule);
        system.Add(batch
            ? "Reply with one JSON object with one entry per item, in the order given: {\"items\": [{\"itemId\": ..., \"reasoning\": \"...\"}]}."
            : "Reply with one JSON object: {\"reasoning\": \"...\"}.");

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

    public ReasoningBatchContract(IReadOnlyList<ReasoningPathRequest> requests, TextBudget budget)
        : base(requests)
    {
        _budget = budget;
    }

    public override RpmStage Stage => RpmStage.ReasoningPath;

    public override JsonTypeInfo<ReasoningBatchOutput> ReplyType => RpmJsonContext.Default.ReasoningBatchOutput;

    protected override string MissingItemsRule => "\"items\" must have a non-empty reasoning for every item";

    public override IReadOnlyList<ChatMessage> WritePrompt() => ReasoningPathContract.Prompt(Requests, _budget);

    protected override string IdOf(ReasoningPathRequest request) => request.Item.Id;

    protected override IEnumerable<ReasoningBatchItemOutput>? ItemsOf(ReasoningBatchOutput reply) => reply.Items;

    protected override string? ItemIdOf(ReasoningBatchItemOutput item) => item.ItemId;

    protected override bool IsAnswered(ReasoningBatchItemOutput item) => !string.IsNullOrWhiteSpace(item.Reasoning);

    protected override OutputValidation<string> ValidateItem(ReasoningBatchItemOutput item, ReasoningPathRequest request, OutputValidationContext context) =>
        OutputValidation<string>.Valid(item.Reasoning.Trim());
}

// The replies; their type names are the schemas' names (rpm_reasoning, rpm_reasoningbatch).

internal sealed class ReasoningOutput
{
    [JsonPropertyName("reasoning")]
    public required string Reasoning { get; set; }
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
}
