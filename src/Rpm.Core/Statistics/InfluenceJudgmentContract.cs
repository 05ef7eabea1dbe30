using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Stage 3's model judgments for generation tasks (rpm-method.md: "Influence = how many of those features M judged to
/// actually shape a_i; Polarity = share of positive / neutral / negative"): for each item, which of its features (found
/// from the input alone at stage 1) shaped the text the user wrote, and in which direction. Always the batched form
/// (<c>"items"</c>, even for one item); <see cref="RpmOptions.InfluenceJudgmentBatchSize"/> items per call.
/// </summary>
internal sealed class InfluenceJudgmentContract : StageContract<InfluenceBatchOutput, IReadOnlyList<ItemFeatures>>
{
    private static readonly string?[] Polarities = ["positive", "neutral", "negative", null];

    private readonly RpmTask _task;
    private readonly IReadOnlyList<ItemFeatures> _items;
    private readonly TextBudget _budget;

    public InfluenceJudgmentContract(RpmTask task, IReadOnlyList<ItemFeatures> items, TextBudget budget)
    {
        _task = task;
        _items = items;
        _budget = budget;
    }

    public override RpmStage Stage => RpmStage.InfluenceJudgment;

    public override string ItemId => string.Join(",", _items.Select(i => i.Item.Id));

    public override JsonTypeInfo<InfluenceBatchOutput> ReplyType => RpmJsonContext.Default.InfluenceBatchOutput;

    public override IReadOnlyList<ChatMessage> WritePrompt()
    {
        bool batch = _items.Count > 1;
        var system = new List<string>
        {
            "You judge how one particular user writes, for a system that learns how this user reasons.",
            PromptRules.TaskLine(_task),
            (batch ? "The data holds several past items of this user (\"items\"), each with" : "The data holds one past item of this user (under \"items\"), with") +
            " the features of its input (name and context) and the text the user actually wrote for it (\"userText\").",
            "For every feature of every item, by its exact name, set \"influential\" to true when the feature visibly shaped the user's text and to false otherwise; " +
            "set \"polarity\" for an influential feature to \"positive\" (the text leans toward the feature), \"neutral\" or \"negative\" (the text leans away from it), and to null for a feature that is not influential.",
            PromptRules.DataRule,
            "Reply with one JSON object with one entry per item, in the order given: {\"items\": [{\"itemId\": ..., \"judgments\": [{\"feature\": ..., \"influential\": true, \"polarity\": \"positive\"}]}]}.",
        };

        var data = new JsonObject();
        StagePrompt.AddItems(data, _items, (node, item) =>
        {
            var features = new JsonArray();
            foreach (Feature feature in item.Features)
            {
                features.Add(new JsonObject { ["name"] = feature.Name, ["context"] = feature.Context });
            }

            node["itemId"] = item.Item.Id;
            node["features"] = features;
            node["userText"] = _budget.Fit(item.Item.Output);
        }, alwaysList: true);
        return PromptRules.Messages(system, data);
    }

    public override void EditSchema(JsonObject schema)
    {
        SchemaEdits.SetEnum(schema, [.. _items.Select(i => i.Item.Id)], "items", "[]", "itemId");
        SchemaEdits.SetEnum(schema, [.. _items.SelectMany(i => i.Features).Select(f => f.Name).Distinct(StringComparer.Ordinal)], "items", "[]", "judgments", "[]", "feature");
        SchemaEdits.SetType(schema, "boolean", "items", "[]", "judgments", "[]", "influential");
        SchemaEdits.SetEnum(schema, Polarities, "items", "[]", "judgments", "[]", "polarity");
    }

    // Every feature of every item needs "influential", and an influential one its "polarity": a missing judgment is
    // repaired, and on the last attempt left unknown (null), never read as "not influential".
    public override OutputValidation<IReadOnlyList<ItemFeatures>> Validate(InfluenceBatchOutput output, OutputValidationContext context)
    {
        IReadOnlyList<ItemFeatures> items = _items;
        var byId = new Dictionary<string, InfluenceItemOutput>(StringComparer.Ordinal);
        foreach (InfluenceItemOutput item in output.Items ?? [])
        {
            if (item?.ItemId is not null)
            {
                byId.TryAdd(item.ItemId.Trim(), item);
            }
        }

        var result = new List<ItemFeatures>(items.Count);
        int missing = 0;
        foreach (ItemFeatures item in items)
        {
            var judgments = new Dictionary<string, InfluenceJudgmentOutput>(StringComparer.OrdinalIgnoreCase);
            if (byId.TryGetValue(item.Item.Id, out InfluenceItemOutput? answer))
            {
                foreach (InfluenceJudgmentOutput judgment in answer.Judgments ?? [])
                {
                    if (!string.IsNullOrWhiteSpace(judgment?.Feature))
                    {
                        judgments[judgment.Feature.Trim()] = judgment;
                    }
                }
            }
            else if (!context.IsLastAttempt)
            {
                return OutputValidation<IReadOnlyList<ItemFeatures>>.Invalid($"\"items\" must have an entry for the item '{item.Item.Id}'.");
            }

            var features = new List<Feature>(item.Features.Count);
            foreach (Feature feature in item.Features)
            {
                bool? influential = judgments.GetValueOrDefault(feature.Name)?.Influential;
                FeaturePolarity? polarity = null;
                if (influential is null)
                {
                    if (!context.IsLastAttempt)
                    {
                        return OutputValidation<IReadOnlyList<ItemFeatures>>.Invalid($"Item '{item.Item.Id}': the feature '{feature.Name}' needs \"influential\": true or false.");
                    }

                    missing++;
                }
                else if (influential == true)
                {
                    if (Enum.TryParse(judgments[feature.Name].Polarity, ignoreCase: true, out FeaturePolarity parsed) && Enum.IsDefined(parsed))
                    {
                        polarity = parsed;
                    }
                    else if (!context.IsLastAttempt)
                    {
                        return OutputValidation<IReadOnlyList<ItemFeatures>>.Invalid(
                            $"Item '{item.Item.Id}': the influential feature '{feature.Name}' needs \"polarity\": \"positive\", \"neutral\" or \"negative\".");
                    }
                    else
                    {
                        missing++;
                    }
                }

                features.Add(new Feature(feature.Name, feature.Context, feature.Factor, influential, polarity));
            }

            result.Add(new ItemFeatures(item.Item, features));
        }

        return OutputValidation<IReadOnlyList<ItemFeatures>>.Valid(result, missing == 0 ? null : new BuildDiagnostics { MissingJudgments = missing });
    }
}

// The reply; its type name is the schema's name (rpm_influencebatch).

internal sealed class InfluenceBatchOutput
{
    [JsonPropertyName("items")]
    public required List<InfluenceItemOutput> Items { get; set; }
}

/// <summary>The judgments of one item's features.</summary>
internal sealed class InfluenceItemOutput
{
    [JsonPropertyName("itemId")]
    public required string ItemId { get; set; }

    [JsonPropertyName("judgments")]
    public required List<InfluenceJudgmentOutput> Judgments { get; set; }
}

/// <summary>Whether one feature shaped the user's text, and how.</summary>
internal sealed class InfluenceJudgmentOutput
{
    [JsonPropertyName("feature")]
    public required string Feature { get; set; }

    // Not "required" in the reader: a missing judgment is repaired by the stage's own validation, and on the last
    // attempt left unknown instead of failing the build.
    [JsonPropertyName("influential")]
    public bool? Influential { get; set; }

    [JsonPropertyName("polarity")]
    public string? Polarity { get; set; }
}
