using System.Text.Json.Serialization;

namespace Rpm.Evaluation;

// The JSON shapes the baselines ask the model for; their schemas come from these types, as RPM's do.

/// <summary>A baseline's answer.</summary>
internal sealed class BaselineAnswerOutput
{
    [JsonPropertyName("answer")]
    public required string Answer { get; set; }
}

/// <summary>A chain-of-thought baseline's reasoning and answer.</summary>
internal sealed class BaselineCotAnswerOutput
{
    [JsonPropertyName("reasoning")]
    public required string Reasoning { get; set; }

    [JsonPropertyName("answer")]
    public required string Answer { get; set; }
}

/// <summary>PAG's profile summary.</summary>
internal sealed class ProfileSummaryOutput
{
    [JsonPropertyName("summary")]
    public required string Summary { get; set; }
}

/// <summary>Source-generated metadata of the baselines' answer shapes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, AllowTrailingCommas = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(BaselineAnswerOutput))]
[JsonSerializable(typeof(BaselineCotAnswerOutput))]
[JsonSerializable(typeof(ProfileSummaryOutput))]
internal sealed partial class BaselineJsonContext : JsonSerializerContext;
