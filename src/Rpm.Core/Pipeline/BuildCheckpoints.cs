namespace Rpm;

// Stage results kept in an IBuildCheckpointStore while a build runs.

/// <summary>Stage 1 result of one item.</summary>
internal sealed class FeatureCheckpoint
{
    public required List<Feature> Features { get; init; }

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
    public required string Reasoning { get; init; }

    public required ModelUsage Usage { get; init; }

    public BuildDiagnostics Diagnostics
    {
        get => field ?? BuildDiagnostics.None;
        init => field = value ?? BuildDiagnostics.None;
    }
}
