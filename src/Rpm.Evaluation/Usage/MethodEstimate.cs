namespace Rpm.Evaluation;

/// <summary>The estimated calls and tokens of one method on a data set, before anything is spent.</summary>
/// <param name="Method">The method.</param>
/// <param name="Build">Calls and tokens of preparing every user.</param>
/// <param name="Query">Calls and tokens of answering every query.</param>
/// <param name="Users">Users prepared.</param>
/// <param name="Queries">Queries answered.</param>
/// <param name="Note">How the numbers were obtained.</param>
internal sealed record MethodEstimate(string Method, UsageTotals Build, UsageTotals Query, int Users, int Queries, string Note)
{
    /// <summary>
    /// Gets the part of <see cref="Query"/> that every method of the same cache scope sends identically (RPM's stage-5
    /// call, the same prompt for <c>rpm</c> and its ablations), so that a run with several of them pays for it once.
    /// </summary>
    public UsageTotals SharedQuery { get; init; } = UsageTotals.Zero;

    /// <summary>Gets the total usage.</summary>
    public UsageTotals Total => Build + Query;
}
