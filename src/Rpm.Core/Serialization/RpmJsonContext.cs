using System.Text.Json.Serialization;

namespace Rpm;

/// <summary>Source-generated JSON metadata for everything Rpm.Core stores or asks the model for.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(UserModel))]
[JsonSerializable(typeof(FeatureListOutput))]
[JsonSerializable(typeof(FactorListOutput))]
[JsonSerializable(typeof(ReasoningOutput))]
[JsonSerializable(typeof(AnswerOutput))]
[JsonSerializable(typeof(FeatureBatchOutput))]
[JsonSerializable(typeof(ReasoningBatchOutput))]
[JsonSerializable(typeof(FactorAssignment))]
[JsonSerializable(typeof(List<Feature>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(ModelUsage))]
[JsonSerializable(typeof(BuildDiagnostics))]
[JsonSerializable(typeof(InfluenceBatchOutput))]
internal sealed partial class RpmJsonContext : JsonSerializerContext;
