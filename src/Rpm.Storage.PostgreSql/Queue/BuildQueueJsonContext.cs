using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>Source-generated JSON metadata of the queue's stored history (the task uses <see cref="RpmJson.RpmTask"/>).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<HistoryItem>))]
internal sealed partial class BuildQueueJsonContext : JsonSerializerContext;
