namespace Rpm;

/// <summary>A reasoning path's text, and what writing it cost.</summary>
public sealed class ReasoningPathResult
{
    /// <summary>Initializes a new instance of the <see cref="ReasoningPathResult"/> class.</summary>
    /// <param name="reasoning">The reasoning text.</param>
    /// <param name="usage">What the model calls cost.</param>
    public ReasoningPathResult(string reasoning, ModelUsage? usage = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reasoning);
        Reasoning = reasoning;
        Usage = usage ?? ModelUsage.None;
    }

    /// <summary>Gets the reasoning text.</summary>
    public string Reasoning { get; }

    /// <summary>Gets what the model calls cost.</summary>
    public ModelUsage Usage { get; }

    /// <summary>Gets the repairs and degradations behind this result, summed into the model's <see cref="UserModel.Diagnostics"/>.</summary>
    public BuildDiagnostics Diagnostics { get; internal init; } = BuildDiagnostics.None;
}
