namespace Rpm;

/// <summary>The result of <see cref="IInfluenceJudge.JudgeAsync"/>: the judged items, and what the call cost.</summary>
public sealed class InfluenceJudgment
{
    /// <summary>Initializes a new instance of the <see cref="InfluenceJudgment"/> class.</summary>
    /// <param name="items">The judged items, in the order they were given.</param>
    /// <param name="usage">The calls and tokens of the judgment.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public InfluenceJudgment(IReadOnlyList<ItemFeatures> items, ModelUsage usage)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(usage);
        Items = items;
        Usage = usage;
    }

    /// <summary>Gets the judged items, in the order they were given.</summary>
    public IReadOnlyList<ItemFeatures> Items { get; }

    /// <summary>Gets the calls and tokens of the judgment.</summary>
    public ModelUsage Usage { get; }

    /// <summary>Gets what the judgment degraded (judgments left unknown: <see cref="BuildDiagnostics.MissingJudgments"/>).</summary>
    public BuildDiagnostics Diagnostics { get; internal init; } = BuildDiagnostics.None;
}
