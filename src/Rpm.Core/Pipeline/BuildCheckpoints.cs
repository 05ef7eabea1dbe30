namespace Rpm;

// Stage results kept in an IBuildCheckpointStore while a build runs.

/// <summary>A per-item stage result: what it cost, what it degraded, and whether the item is left out.</summary>
/// <typeparam name="TSelf">The checkpoint type.</typeparam>
internal interface IItemCheckpoint<TSelf>
{
    ModelUsage Usage { get; }

    BuildDiagnostics Diagnostics { get; }

    /// <summary>Gets why the item is left out of the model (the model refused it or a filter stopped it), or null.</summary>
    string? Excluded { get; }

    /// <summary>Returns a copy that also carries the cost of a call shared with other items (a refused batch).</summary>
    TSelf WithAddedUsage(ModelUsage usage);
}

/// <summary>Stage 1 result of one item.</summary>
internal sealed class FeatureCheckpoint : IItemCheckpoint<FeatureCheckpoint>
{
    public required List<Feature> Features { get; init; }

    public string? Excluded { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }

    public FeatureCheckpoint WithAddedUsage(ModelUsage usage) =>
        new() { Features = Features, Excluded = Excluded, Usage = Usage + usage, Diagnostics = Diagnostics };
}

/// <summary>Stage 2 result of a user.</summary>
internal sealed class FactorCheckpoint
{
    public required List<Factor> Factors { get; init; }

    public required Dictionary<string, List<Feature>> Items { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }
}

/// <summary>Stage 4 result of one item.</summary>
internal sealed class ReasoningCheckpoint : IItemCheckpoint<ReasoningCheckpoint>
{
    /// <summary>Gets the reasoning; empty when the item is excluded.</summary>
    public required string Reasoning { get; init; }

    public string? Excluded { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }

    public ReasoningCheckpoint WithAddedUsage(ModelUsage usage) =>
        new() { Reasoning = Reasoning, Excluded = Excluded, Usage = Usage + usage, Diagnostics = Diagnostics };
}

/// <summary>Stage 3 influence judgments of one item (generation tasks): its features with influence and polarity set, or unknown.</summary>
internal sealed class JudgmentCheckpoint : IItemCheckpoint<JudgmentCheckpoint>
{
    public required List<Feature> Features { get; init; }

    public string? Excluded { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }

    public JudgmentCheckpoint WithAddedUsage(ModelUsage usage) =>
        new() { Features = Features, Excluded = Excluded, Usage = Usage + usage, Diagnostics = Diagnostics };
}
