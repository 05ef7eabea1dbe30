using System.Text.Json.Serialization;

namespace Rpm.Evaluation;

/// <summary>Source-generated JSON metadata for the files the evaluation harness reads and writes.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(TaskFile))]
[JsonSerializable(typeof(EvaluationReport))]
[JsonSerializable(typeof(MetricSet))]
internal sealed partial class EvaluationJsonContext : JsonSerializerContext;
