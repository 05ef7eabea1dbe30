namespace Rpm;

// Stage results kept in an IBuildCheckpointStore while a build runs.

/// <summary>Stage 1 result of one item.</summary>
internal sealed class FeatureCheckpoint
{
    public required List<Feature> Features { get; init; }

    /// <summary>Gets why the item is left out of the model (the model refused it or a filter stopped it), or null.</summary>
    public string? Excluded { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }
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
internal sealed class ReasoningCheckpoint
{
    /// <summary>Gets the reasoning; empty when the item is excluded.</summary>
    public required string Reasoning { get; init; }

    /// <summary>Gets why the item is left out of the reasoning memory, or null.</summary>
    public string? Excluded { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }
}
