using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>Source-generated JSON metadata for the state <see cref="RpmContextProvider"/> keeps in agent sessions.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RpmSessionState))]
internal sealed partial class RpmAgentJsonContext : JsonSerializerContext;
