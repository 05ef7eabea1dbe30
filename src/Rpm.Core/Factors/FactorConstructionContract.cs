using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Rpm;

/// <summary>
/// Stage 2 (rpm-method.md): the user's features grouped into user-level factors, each a named theme with a one-sentence
/// description, and every feature assigned to one of them. One call per user over a bounded list of distinct features
/// (<see cref="RpmOptions.MaxFactorConstructionFeatures"/>, most frequent first). The reply is read leniently and
/// completed by rule (<see cref="FactorRules"/>): names that are not features are ignored or matched to the feature
/// they renamed, duplicates merged, features left out assigned by rule.
/// </summary>
internal sealed class FactorConstructionContract : StageContract<FactorListOutput, FactorAnswer>
{
    private readonly string _userId;
    private readonly RpmTask _task;
    private readonly IReadOnlyList<DistinctFeature> _shown;
    private readonly int _minFactors;
    private readonly int _maxFactors;

    public FactorConstructionContract(string userId, RpmTask task, IReadOnlyList<DistinctFeature> shown, int minFactors, int maxFactors)
    {
        _userId = userId;
        _task = task;
        _shown = shown;
        _minFactors = minFactors;
        _maxFactors = maxFactors;
    }

    public override RpmStage Stage => RpmStage.FactorConstruction;

    public override string ItemId => _userId;

    public override JsonTypeInfo<FactorListOutput> ReplyType => RpmJsonContext.Default.FactorListOutput;

    public override IReadOnlyList<ChatMessage> WritePrompt()
    {
        int minFactors = _minFactors, maxFactors = _maxFactors;
        var system = new List<string>
        {
            "You build the model of one user for a system that learns how this user reasons.",
            PromptRules.TaskLine(_task),
            "The data lists the features found in the inputs of the user's history, the most frequent first: each with its name, how many items it appeared in, example contexts, and the categories suggested for it.",
            (minFactors == maxFactors ? $"Group these features into {maxFactors} user-level factor{(maxFactors == 1 ? string.Empty : "s")}" : $"Group these features into between {minFactors} and {maxFactors} user-level factors") +
            ": each factor a named theme that could drive this user's answers " +
            "(e.g. \"Product quality\", \"Narrative darkness\"). Give each factor a one-sentence description.",
            "Assign every feature, by its exact name, to exactly one factor under \"features\". Use only feature names from the data. Factor names must be distinct.",
            PromptRules.DataRule,
            "Reply with one JSON object: {\"factors\": [{\"name\": ..., \"description\": ..., \"features\": [feature names]}]}.",
        };

        var list = new JsonArray();
        foreach (DistinctFeature feature in _shown)
        {
            list.Add(new JsonObject
            {
                ["name"] = feature.Name,
                ["items"] = feature.Count,
                ["contexts"] = PromptRules.Strings(feature.Contexts),
                ["suggestedFactors"] = PromptRules.Strings(feature.SuggestedFactors),
            });
        }

        return PromptRules.Messages(system, new JsonObject { ["features"] = list });
    }

    // The answer space: a factor's features are the features shown, by exact name.
    public override void EditSchema(JsonObject schema) =>
        SchemaEdits.SetEnum(schema, [.. _shown.Select(f => f.Name)], "factors", "[]", "features", "[]");

    public override OutputValidation<FactorAnswer> Validate(FactorListOutput reply, OutputValidationContext context) =>
        FactorRules.Read(reply, _shown, _maxFactors, context);
}

// The reply; its type name is the schema's name (rpm_factorlist).

internal sealed class FactorListOutput
{
    [JsonPropertyName("factors")]
    public required List<FactorOutput> Factors { get; set; }
}

internal sealed class FactorOutput
{
    [JsonPropertyName("name")]
    public required string Name { get; set; }

    [JsonPropertyName("description")]
    public required string Description { get; set; }

    [JsonPropertyName("features")]
    public required List<string> Features { get; set; }
}
