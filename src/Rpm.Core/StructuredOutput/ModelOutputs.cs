using System.Text.Json.Serialization;

namespace Rpm;

// The JSON shapes the model is asked to return. Kept flat (no polymorphism, typed arrays) so that every
// provider's JSON-schema mode accepts them; the stages map them to the public types after validation.

/// <summary>Stage 1 and 5 output.</summary>
internal sealed class FeatureListOutput
{
    [JsonPropertyName("features")]
    public required List<FeatureOutput> Features { get; set; }
}

/// <summary>One feature as the model returns it.</summary>
internal sealed class FeatureOutput
{
    [JsonPropertyName("name")]
    public required string Name { get; set; }

    [JsonPropertyName("context")]
    public required string Context { get; set; }

    [JsonPropertyName("factor")]
    public required string? Factor { get; set; }
}

/// <summary>Stage 2 output.</summary>
internal sealed class FactorListOutput
{
    [JsonPropertyName("factors")]
    public required List<FactorOutput> Factors { get; set; }
}

/// <summary>One factor as the model returns it, with the names of its member features.</summary>
internal sealed class FactorOutput
{
    [JsonPropertyName("name")]
    public required string Name { get; set; }

    [JsonPropertyName("description")]
    public required string Description { get; set; }

    [JsonPropertyName("features")]
    public required List<string> Features { get; set; }
}

/// <summary>Stage 4 output.</summary>
internal sealed class ReasoningOutput
{
    [JsonPropertyName("reasoning")]
    public required string Reasoning { get; set; }
}

/// <summary>Stage 7 output.</summary>
internal sealed class AnswerOutput
{
    [JsonPropertyName("rationale")]
    public required string Rationale { get; set; }

    [JsonPropertyName("answer")]
    public required string Answer { get; set; }
}

/// <summary>Batched stage 1 and 5 output: one entry per item.</summary>
internal sealed class FeatureBatchOutput
{
    [JsonPropertyName("items")]
    public required List<FeatureBatchItemOutput> Items { get; set; }
}

/// <summary>The features of one item of a batch.</summary>
internal sealed class FeatureBatchItemOutput
{
    [JsonPropertyName("itemId")]
    public required string ItemId { get; set; }

    [JsonPropertyName("features")]
    public required List<FeatureOutput> Features { get; set; }
}

/// <summary>Batched stage 4 output: one entry per item.</summary>
internal sealed class ReasoningBatchOutput
{
    [JsonPropertyName("items")]
    public required List<ReasoningBatchItemOutput> Items { get; set; }
}

/// <summary>The reasoning of one item of a batch.</summary>
internal sealed class ReasoningBatchItemOutput
{
    [JsonPropertyName("itemId")]
    public required string ItemId { get; set; }

    [JsonPropertyName("reasoning")]
    public required string Reasoning { get; set; }
}

/// <summary>Influence judgments (stage 3, generation tasks) of one or more history items.</summary>
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
