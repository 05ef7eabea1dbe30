using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Rpm;

/// <summary>
/// One stage result kept in an <see cref="IBuildCheckpointStore"/> while a build runs: the stage's value for an item (or
/// for the user, at stage 2), what its call cost, what it degraded, and why the item is left out, if it is.
/// </summary>
/// <typeparam name="T">The stage's value: an item's features, its reasoning, the user's factors.</typeparam>
internal sealed class StageCheckpoint<T>
{
    public required T Value { get; init; }

    /// <summary>Gets why the item is left out of the model (the model refused it or a filter stopped it), or null.</summary>
    public string? Excluded { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }

    /// <summary>Returns a copy that also carries the cost of a call shared with other items (a refused batch).</summary>
    public StageCheckpoint<T> WithAddedUsage(ModelUsage usage) =>
        new() { Value = Value, Excluded = Excluded, Usage = Usage + usage, Diagnostics = Diagnostics };
}

/// <summary>
/// How a stage's checkpoints are written: <c>{"&lt;value&gt;": ..., "excluded": ..., "usage": ..., "diagnostics": ...}</c>,
/// with the value under the stage's own name (<c>features</c>, <c>reasoning</c>), or, for an object value with no name,
/// its properties at the top level (stage 2: <c>factors</c>, <c>items</c>). The shape is the one the per-stage
/// checkpoint classes wrote before one generic type replaced them, so a build checkpointed by an earlier version resumes
/// without paying again.
/// </summary>
/// <typeparam name="T">The stage's value.</typeparam>
internal sealed class CheckpointFormat<T>
{
    private readonly string? _valueName;
    private readonly JsonTypeInfo<T> _valueType;

    public CheckpointFormat(string? valueName, JsonTypeInfo<T> valueType)
    {
        _valueName = valueName;
        _valueType = valueType;
    }

    public static CheckpointFormat<List<Feature>> Features { get; } = new("features", RpmJsonContext.Default.ListFeature);

    public static CheckpointFormat<string> Reasoning { get; } = new("reasoning", RpmJsonContext.Default.String);

    public static CheckpointFormat<FactorAssignment> Factors { get; } = new(null, RpmJsonContext.Default.FactorAssignment);

    public string Write(StageCheckpoint<T> checkpoint)
    {
        JsonNode? value = JsonSerializer.SerializeToNode(checkpoint.Value, _valueType);
        JsonObject document = _valueName is null ? value!.AsObject() : new JsonObject { [_valueName] = value };
        if (checkpoint.Excluded is { } excluded)
        {
            document["excluded"] = excluded;
        }

        document["usage"] = JsonSerializer.SerializeToNode(checkpoint.Usage, RpmJsonContext.Default.ModelUsage);
        document["diagnostics"] = JsonSerializer.SerializeToNode(checkpoint.Diagnostics, RpmJsonContext.Default.BuildDiagnostics);
        return document.ToJsonString();
    }

    /// <exception cref="InvalidDataException">The checkpoint is empty, corrupt or has no value.</exception>
    public StageCheckpoint<T> Read(string json, string key)
    {
        try
        {
            JsonObject document = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException($"The build checkpoint '{key}' is empty.");
            JsonNode? value = _valueName is null ? document : document[_valueName];
            return new StageCheckpoint<T>
            {
                Value = (value is null ? default : value.Deserialize(_valueType)) ?? throw new InvalidDataException($"The build checkpoint '{key}' has no value."),
                Excluded = document["excluded"]?.GetValue<string>(),
                Usage = document["usage"]?.Deserialize(RpmJsonContext.Default.ModelUsage) ?? ModelUsage.None,
                Diagnostics = document["diagnostics"]?.Deserialize(RpmJsonContext.Default.BuildDiagnostics) ?? BuildDiagnostics.None,
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The build checkpoint '{key}' is corrupt: {ex.Message}. Delete the user's checkpoints to rebuild from scratch.", ex);
        }
    }
}

/// <summary>Stage 2's value for a user: the factors, and every item's features assigned to them.</summary>
internal sealed class FactorAssignment
{
    public required List<Factor> Factors { get; init; }

    public required Dictionary<string, List<Feature>> Items { get; init; }
}
