using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Stages 1 and 5 (rpm-method.md): the features of an input, as (name, context, factor) triples. Without factors (a
/// build's history items) the factor is a suggested category; with the user's factors (a query, or an update's new
/// items) it is one of them or null (unassigned). One item per call as in the paper, or several sharing one call
/// (<see cref="RpmOptions.FeatureExtractionBatchSize"/>), which repeats the instructions and the factors once.
/// </summary>
internal sealed class FeatureExtractionContract : StageContract<FeatureListOutput, IReadOnlyList<Feature>>
{
    private readonly FeatureExtractionRequest _request;
    private readonly RpmOptions _options;
    private readonly TextBudget _budget;

    public FeatureExtractionContract(FeatureExtractionRequest request, RpmOptions options, TextBudget budget)
    {
        _request = request;
        _options = options;
        _budget = budget;
    }

    public override RpmStage Stage => StageOf(_request);

    public override string ItemId => _request.ItemId;

    public override JsonTypeInfo<FeatureListOutput> ReplyType => RpmJsonContext.Default.FeatureListOutput;

    public override IReadOnlyList<ChatMessage> WritePrompt() => Prompt([_request], _options, _budget);

    public override void EditSchema(JsonObject schema) => EditFeatureSchema(schema, _request, "features", "[]");

    public override OutputValidation<IReadOnlyList<Feature>> Validate(FeatureListOutput reply, OutputValidationContext context) =>
        ValidateFeatures(reply.Features, _request, _options);

    internal static RpmStage StageOf(FeatureExtractionRequest request) =>
        request.Factors is null ? RpmStage.FeatureExtraction : RpmStage.QueryFeatureExtraction;

    /// <summary>The prompt, for one request or a batch of requests sharing a task and factors.</summary>
    internal static IReadOnlyList<ChatMessage> Prompt(IReadOnlyList<FeatureExtractionRequest> requests, RpmOptions options, TextBudget budget)
    {
        FeatureExtractionRequest first = requests[0];
        RpmTask task = first.Task;
        bool batch = requests.Count > 1;
        var system = new List<string>
        {
            batch
                ? "You analyse several inputs, each on its own, for a system that learns how a particular user reasons."
                : "You analyse one input for a system that learns how a particular user reasons.",
            PromptRules.TaskLine(task),
            $"List the features of {(batch ? "each" : "the")} input that could influence how a person answers it: between 1 and {options.MaxFeaturesPerItem} features. " +
            "Leave out everything that does not matter for the answer.",
            "Each feature has a \"name\" (two to four words, general enough to recur in other inputs, e.g. \"Taste\"), " +
            "a \"context\" (what the feature is in this input, one short phrase, e.g. \"the flavour of the product\") and a \"factor\".",
            first.Factors is not null
                ? "The user's existing factors are listed under \"factors\" in the data. Set \"factor\" to the exact name of the factor the feature belongs to, " +
                  $"or to null when it fits none of them (it is then kept as {RpmPrompts.Unassigned}). Never invent a new factor name."
                : "Set \"factor\" to a broader category the feature belongs to (e.g. \"Product quality\", \"Narrative darkness\").",
            PromptRules.DataRule,
            batch
                ? "Reply with one JSON object with one entry per item, in the order given: {\"items\": [{\"itemId\": ..., \"features\": [{\"name\": ..., \"context\": ..., \"factor\": ...}]}]}."
                : "Reply with one JSON object: {\"features\": [{\"name\": ..., \"context\": ..., \"factor\": ...}]}.",
        };

        // The user's factors (shared by every factor-aware call of the user) before the items (different in each).
        var data = new JsonObject();
        if (first.Factors is { } factors)
        {
            data["factors"] = RpmPrompts.StatisticsNode(task, factors);
        }

        StagePrompt.AddItems(data, requests, (item, request) =>
        {
            item["itemId"] = request.ItemId;
            item["input"] = budget.Fit(request.Input);
            PromptRules.AddOptions(item, task, request.Options);
        });
        return PromptRules.Messages(system, data);
    }

    // The answer space of the call: the user's factors (or null) for factor-aware extraction.
    internal static void EditFeatureSchema(JsonObject schema, FeatureExtractionRequest request, params string[] featurePath)
    {
        if (request.Factors is { } factors)
        {
            SchemaEdits.SetEnum(schema, [.. factors.Select(f => f.Factor.Name), null], [.. featurePath, "factor"]);
        }
    }

    internal static OutputValidation<IReadOnlyList<Feature>> ValidateFeatures(List<FeatureOutput>? outputFeatures, FeatureExtractionRequest request, RpmOptions options)
    {
        if (outputFeatures is null || outputFeatures.Count == 0)
        {
            return OutputValidation<IReadOnlyList<Feature>>.Invalid("\"features\" must list at least one feature.");
        }

        Dictionary<string, string>? factorNames = request.Factors?.ToDictionary(s => s.Factor.Name, s => s.Factor.Name, StringComparer.OrdinalIgnoreCase);
        var features = new List<Feature>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (FeatureOutput item in outputFeatures.Take(options.MaxFeaturesPerItem))
        {
            if (item is null || string.IsNullOrWhiteSpace(item.Name) || string.IsNullOrWhiteSpace(item.Context))
            {
                return OutputValidation<IReadOnlyList<Feature>>.Invalid("Every feature needs a non-empty \"name\" and \"context\".");
            }

            if (!seen.Add(item.Name.Trim()))
            {
                // The same feature named twice adds nothing to retrieval or statistics.
                continue;
            }

            string? factor = string.IsNullOrWhiteSpace(item.Factor) ? null : item.Factor.Trim();
            if (factorNames is not null && factor is not null)
            {
                // Factor-aware extraction: a name outside the user's factors is kept as unassigned, never given statistics.
                factor = factorNames.GetValueOrDefault(factor);
            }

            features.Add(new Feature(item.Name, item.Context, factor));
        }

        return OutputValidation<IReadOnlyList<Feature>>.Valid(features);
    }
}

/// <summary>Several inputs' features in one call: <c>{"items": [{"itemId": ..., "features": [...]}]}</c>.</summary>
internal sealed class FeatureBatchContract : ItemBatchContract<FeatureExtractionRequest, FeatureBatchOutput, FeatureBatchItemOutput, IReadOnlyList<Feature>>
{
    private readonly RpmOptions _options;
    private readonly TextBudget _budget;

    public FeatureBatchContract(IReadOnlyList<FeatureExtractionRequest> requests, RpmOptions options, TextBudget budget)
        : base(requests)
    {
        _options = options;
        _budget = budget;
    }

    public override RpmStage Stage => FeatureExtractionContract.StageOf(Requests[0]);

    public override JsonTypeInfo<FeatureBatchOutput> ReplyType => RpmJsonContext.Default.FeatureBatchOutput;

    protected override string MissingItemsRule => "\"items\" must have one entry for every item";

    public override IReadOnlyList<ChatMessage> WritePrompt() => FeatureExtractionContract.Prompt(Requests, _options, _budget);

    protected override void EditItemSchema(JsonObject schema, params string[] itemPath) =>
        FeatureExtractionContract.EditFeatureSchema(schema, Requests[0], [.. itemPath, "features", "[]"]);

    protected override string IdOf(FeatureExtractionRequest request) => request.ItemId;

    protected override IEnumerable<FeatureBatchItemOutput>? ItemsOf(FeatureBatchOutput reply) => reply.Items;

    protected override string? ItemIdOf(FeatureBatchItemOutput item) => item.ItemId;

    protected override OutputValidation<IReadOnlyList<Feature>> ValidateItem(FeatureBatchItemOutput item, FeatureExtractionRequest request, OutputValidationContext context) =>
        FeatureExtractionContract.ValidateFeatures(item.Features, request, _options);
}

// The replies: kept flat (no polymorphism, typed arrays) so that every provider's JSON-schema mode accepts them. Their
// type names are the schemas' names (rpm_featurelist, rpm_featurebatch): renaming one changes every prompt's bytes.

internal sealed class FeatureListOutput
{
    [JsonPropertyName("features")]
    public required List<FeatureOutput> Features { get; set; }
}

internal sealed class FeatureOutput
{
    [JsonPropertyName("name")]
    public required string Name { get; set; }

    [JsonPropertyName("context")]
    public required string Context { get; set; }

    [JsonPropertyName("factor")]
    public required string? Factor { get; set; }
}

internal sealed class FeatureBatchOutput
{
    [JsonPropertyName("items")]
    public required List<FeatureBatchItemOutput> Items { get; set; }
}

internal sealed class FeatureBatchItemOutput
{
    [JsonPropertyName("itemId")]
    public required string ItemId { get; set; }

    [JsonPropertyName("features")]
    public required List<FeatureOutput> Features { get; set; }
}
