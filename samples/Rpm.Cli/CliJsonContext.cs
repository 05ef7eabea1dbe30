using System.Text.Json.Serialization;
using Rpm.Evaluation;

namespace Rpm.Cli;

/// <summary>Source-generated JSON metadata for what the commands write.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(MetricSet))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
