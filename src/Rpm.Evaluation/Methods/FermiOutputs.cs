using System.Text.Json.Serialization;

namespace Rpm.Evaluation;

/// <summary>Fermi's optimizer answer: the new prompts.</summary>
internal sealed class FermiPromptsOutput
{
    [JsonPropertyName("prompts")]
    public required List<string> Prompts { get; set; }
}

/// <summary>Source-generated metadata of Fermi's optimizer answer, from which its schema is made.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, AllowTrailingCommas = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(FermiPromptsOutput))]
internal sealed partial class FermiJsonContext : JsonSerializerContext;
