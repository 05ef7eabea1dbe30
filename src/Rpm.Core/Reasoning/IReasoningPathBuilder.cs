namespace Rpm;

/// <summary>Writes, for one history item, the reasoning that leads from the user's factors to the known answer (stage 4 of RPM).</summary>
public interface IReasoningPathBuilder
{
    /// <summary>Writes the reasoning path of one history item.</summary>
    /// <param name="request">The item, its features, the user's statistics and the known answer.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The reasoning text and its cost.</returns>
    Task<ReasoningPathResult> BuildAsync(ReasoningPathRequest request, CancellationToken cancellationToken = default);
}
